#!/usr/bin/env python3
"""A PyTorch-trained LeNet for test/unit/cli/eval.test.ts.

Builds LeNet-5 as an nn.Sequential (the spec `lenet`), trains it for a few
SGD steps on seeded random 28x28 images, then writes, into the folder given as
argv[1]: model.safetensors (its state_dict, in the safetensors format, written
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
    model = lenet()
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
