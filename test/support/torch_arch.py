#!/usr/bin/env python3
"""PyTorch reference for the architecture tests (test/unit/engine/arch-torch.test.ts).

Reads one JSON case on stdin: the parsed network (nodes as Landscape's grammar
gives them), the parameter layout (name, offset, shape), the flat parameter
vector, the rows (x as N rows of C*H*W, labels), the loss and the BatchNorm
mode. Builds the same network with torch.nn.functional in float64, written
here independently of the TypeScript, and prints the loss and its gradient
with respect to the flat vector, and with a vector v its Hessian-vector
product H·v.
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def main():
    case = json.load(sys.stdin)
    theta = torch.tensor(case['theta'], dtype=torch.float64, requires_grad=True)
    tensors = {t['name']: theta[t['offset']:t['offset'] + t['size']].view(t['shape']) for t in case['layout']}
    buffers = {t['name']: torch.tensor(case['buffers'][t['offset']:t['offset'] + t['size']]) for t in case['bufferLayout']}
    x = torch.tensor(case['x']).view([len(case['labels'])] + case['inputShape'])
    labels = torch.tensor(case['labels'], dtype=torch.long)
    out = run(case['nodes'][1:], x, 'layers.', tensors, buffers, case['bn'])
    if case['loss'] == 'cross-entropy':
        loss = F.cross_entropy(out, labels)
    else:
        loss = F.mse_loss(out, torch.tensor(case['targets']).view(out.shape))
    (grad,) = torch.autograd.grad(loss, theta, create_graph=True)
    result = {'loss': loss.item(), 'grad': grad.tolist()}
    if 'v' in case:
        # The Hessian-vector product by double backward, PyHessian's way.
        (hv,) = torch.autograd.grad(grad @ torch.tensor(case['v']), theta)
        result['hv'] = hv.tolist()
    print(json.dumps(result))


def run(nodes, h, prefix, tensors, buffers, bn_mode):
    for i, node in enumerate(nodes):
        h = layer(node, h, f'{prefix}{i}', tensors, buffers, bn_mode)
    return h


def layer(node, h, name, tensors, buffers, bn_mode):
    op = node['op']
    if op == 'conv':
        pad = node['pad']
        padding = (node['kernel'] - 1) // 2 if pad == 'same' else 0 if pad == 'valid' else pad
        return F.conv2d(h, tensors[name + '.weight'], tensors.get(name + '.bias'), stride=node['stride'], padding=padding)
    if op == 'maxpool':
        return F.max_pool2d(h, node['kernel'], node['stride'])
    if op == 'avgpool':
        return F.avg_pool2d(h, node['kernel'], node['stride'])
    if op == 'gap':
        return h.mean(dim=(2, 3))
    if op == 'zeropad':
        # F.pad lists the last axis first: columns (left, right), then rows (top, bottom).
        return F.pad(h, (node['left'], node['right'], node['top'], node['bottom']))
    if op == 'bn':
        training = bn_mode == 'batch'
        mean = None if training else buffers[name + '.running_mean']
        var = None if training else buffers[name + '.running_var']
        return F.batch_norm(h, mean, var, tensors[name + '.weight'], tensors[name + '.bias'], training=training, eps=1e-5)
    if op == 'flatten':
        return h.flatten(1)
    if op == 'dense':
        return F.linear(h, tensors[name + '.weight'], tensors.get(name + '.bias'))
    if op == 'activation':
        return {'relu': F.relu, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'softplus': F.softplus, 'elu': F.elu}[node['fn']](h)
    if op == 'res':
        body = run(node['body'], h, name + '.body.', tensors, buffers, bn_mode)
        # A shape change gets the 1x1 conv + bn shortcut, as in torchvision's BasicBlock.
        if body.shape != h.shape:
            stride = h.shape[2] // body.shape[2]
            s = F.conv2d(h, tensors[name + '.shortcut.0.weight'], None, stride=stride)
            training = bn_mode == 'batch'
            mean = None if training else buffers[name + '.shortcut.1.running_mean']
            var = None if training else buffers[name + '.shortcut.1.running_var']
            s = F.batch_norm(s, mean, var, tensors[name + '.shortcut.1.weight'], tensors[name + '.shortcut.1.bias'], training=training, eps=1e-5)
            return body + s
        return body + h
    raise ValueError(f'unknown op {op}')


if __name__ == '__main__':
    main()
