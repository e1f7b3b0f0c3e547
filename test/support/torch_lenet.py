#!/usr/bin/env python3
"""PyTorch-trained networks for test/unit/cli/eval.test.ts.

Builds argv[2] ('lenet': LeNet-5 as an nn.Sequential, the spec `lenet`;
'bnres': a BatchNorm residual net, the spec BNRES_SPEC in the test), trains it
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
    model = lenet() if sys.argv[2] == 'lenet' else bnres()
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
