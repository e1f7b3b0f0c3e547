#!/usr/bin/env python3
"""PyTorch-trained networks for test/unit/cli/eval.test.ts.

Builds argv[2] ('lenet': LeNet-5 as an nn.Sequential, the spec `lenet`;
'bnres': a BatchNorm residual net, the spec BNRES_SPEC in the test; 'resnet':
torchvision's ResNet names at a small size, RESNET_SPEC), trains it
for a few SGD steps on seeded random 28x28 images (BatchNorm's running
statistics move), then writes, into the folder given as argv[1]: model.safetensors (its state_dict, in the safetensors format, written
here since Debian has no python3-safetensors) and data.npz (x as float32
[N, 1, 28, 28], y as int64 labels). Prints the module's eval-mode
cross-entropy and accuracy on those rows as JSON.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class Residual(nn.Module):
    """body(x) + shortcut(x), with the submodule names Landscape's res() uses."""

    def __init__(self, body, shortcut):
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


def bnres():
    # input(1,28,28) conv(4,3,pad=1,bias=false) bn relu
    # res(conv(8,3,stride=2,pad=1,bias=false) bn relu conv(8,3,pad=1,bias=false) bn) relu gap dense(10)
    body = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
    shortcut = nn.Sequential(nn.Conv2d(4, 8, 1, stride=2, bias=False), nn.BatchNorm2d(8))
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         Residual(body, shortcut), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))


class BasicBlock(nn.Module):
    """torchvision's BasicBlock naming: conv1, bn1, conv2, bn2, downsample.0/1."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (self.downsample(x) if self.downsample is not None else x))


class TinyResNet(nn.Module):
    """torchvision's ResNet naming (conv1, bn1, layer1.0..., fc) at a small size: spec RESNET_SPEC in the test."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.layer1 = nn.Sequential(BasicBlock(4, 4, 1))
        self.layer2 = nn.Sequential(BasicBlock(4, 8, 2), BasicBlock(8, 8, 1))
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def save_safetensors(state, path):
    header, blobs, offset = {}, [], 0
    for name, t in state.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    model = {'lenet': lenet, 'bnres': bnres, 'resnet': TinyResNet}[sys.argv[2]]()
    x = torch.randn(96, 1, 28, 28)
    y = torch.randint(0, 10, (96,))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(20):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(1) == y).double().mean().item()
    save_safetensors(model.state_dict(), os.path.join(out, 'model.safetensors'))
    np.savez(os.path.join(out, 'data.npz'), x=x.numpy(), y=y.numpy())
    print(json.dumps({'loss': loss, 'accuracy': accuracy, 'samples': len(y)}))


main()
