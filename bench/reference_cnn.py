#!/usr/bin/env python3
"""PyTorch reference of the convolutional workloads W7-W10 (bench/main.ts).

Run by the benchmark as a subprocess, one workload per process, on the data
bench/cnnFixture.ts exported: the same images, the same flat parameter
vectors, and the layers with each tensor's offset in the vector (PyTorch's
state_dict order and shapes: conv [out, in, k, k] then bias, dense [out, in]
then bias). The network is built from that vector with torch.nn.functional
(conv2d, max_pool2d, batch_norm, linear); flatten is PyTorch's C,H,W order.
Prints one JSON object on stdout, as reference.py does.

  W7   one epoch of mini-batch SGD (batch 64, lr 0.1) of LeNet on 10,000
       Fashion-MNIST images: zero_grad, F.cross_entropy, backward,
       torch.optim.SGD.step; the textbook loop.
  W8   one FourierPathFinder iteration on LeNet, M = 20 points, N_F = 10, over
       2,000 images: reference.py's W3 unchanged (the points evaluated one by
       one, as the paper's code does, then one backward pass, Adam).
  W8b  the same iteration with the 20 points batched by functorch.vmap (torch
       1.13's batching of conv2d over a batch of weights), for honesty.
  W9   ResNet-20's loss and gradient on 128 synthetic 3x32x32 images,
       BatchNorm in train mode (batch statistics), torch.autograd.grad.
  W10  LeNet's top Hessian eigenvalue, 20 Lanczos steps over 2,000 images:
       reference.py's W5 unchanged (double backward, PyHessian's way).
  CNNcheck  untimed: loss and gradient at the initial weights of both
       networks, for the agreement the benchmark prints, and the float32
       gradient's distance to a float64 one (the scale of rounding); they are
       left beside the input file (<data>.lenet.grad, raw float32) for our side
       to compare with.

Warm-ups are cheap versions of a run (W7: nine mini-batches; W8: one point's
loss and gradient; W8b: the batched call on 64 rows; W10: one Lanczos step),
and one timed run is enough once a run exceeds the budget, as on our side.
"""
import math
import sys

import torch
import torch.nn.functional as F

# Importing reference.py would otherwise leave a __pycache__ folder in bench/ on every run.
sys.dont_write_bytecode = True
from reference import load, parse_args, time_and_report, w3, w5  # noqa: E402

BN_EPSILON = 1e-5
ACTIVATIONS = {'relu': F.relu, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'softplus': F.softplus, 'elu': F.elu}


class ArchNet:
    """A layer-grammar network of a flat parameter vector, as bench/cnnFixture.ts describes it."""

    def __init__(self, model):
        self.input = model['input']
        self.nodes = model['nodes']
        self.dim = model['dim']

    def forward(self, theta, x):
        return self.run(self.nodes, theta, x.view(x.shape[0], *self.input))

    def loss(self, theta, x, labels):
        return F.cross_entropy(self.forward(theta, x), labels)

    def run(self, nodes, theta, h):
        for node in nodes:
            h = self.node(node, theta, h)
        return h

    def node(self, node, theta, h):
        op = node['op']
        t = lambda role: tensor(theta, node.get(role))
        if op == 'conv':
            return F.conv2d(h, t('weight'), t('bias'), stride=node['stride'], padding=node['pad'])
        if op == 'dense':
            return F.linear(h, t('weight'), t('bias'))
        if op == 'bn':
            # Train mode: the rows' own statistics, biased variance, as the engine's 'batch' mode.
            return F.batch_norm(h, None, None, t('weight'), t('bias'), training=True, momentum=0.0, eps=BN_EPSILON)
        if op == 'maxpool':
            return F.max_pool2d(h, node['kernel'], node['stride'])
        if op == 'avgpool':
            return F.avg_pool2d(h, node['kernel'], node['stride'])
        if op == 'gap':
            return h.mean((2, 3))
        if op == 'flatten':
            return h.flatten(1)
        if op == 'activation':
            return ACTIVATIONS[node['fn']](h)
        if op == 'res':
            shortcut = self.run(node['shortcut'], theta, h) if node['shortcut'] else h
            return self.run(node['body'], theta, h) + shortcut
        raise ValueError(f'unknown layer {op}')


def tensor(theta, where):
    if where is None:
        return None
    offset, shape = where
    return theta[offset : offset + math.prod(shape)].view(shape)


def lenet(h, d):
    if not h['models'].get('lenet'):
        raise SystemExit('Fashion-MNIST was not exported (not installed?): W7, W8 and W10 need it')
    return ArchNet(h['models']['lenet'])


def path_rows(h, d):
    n = h['pathRows']
    return {'x': d['x'][:n], 'labels': d['labels'][:n], 'a': d['a'], 'b': d['b']}


# ---------------------------------------------------------------- workloads
# Each returns (warm, run): the cheap warm-up and the timed run.


def w7(h, d):
    net = lenet(h, d)
    theta = d['a'].clone().requires_grad_(True)
    opt = torch.optim.SGD([theta], lr=h['sgdLr'])
    x, labels = d['x'], d['labels'].long()
    n, batch = x.shape[0], h['batch']
    gen = torch.Generator().manual_seed(0)

    def steps(starts):
        perm = torch.randperm(n, generator=gen)
        for s in starts:
            idx = perm[s : s + batch]
            opt.zero_grad()
            net.loss(theta, x[idx], labels[idx]).backward()
            opt.step()
        return {'steps': len(starts)}

    starts = list(range(0, n, batch))
    return (lambda: steps(starts[:8] + starts[-1:])), (lambda: steps(starts))


def w8(h, d):
    net = lenet(h, d)
    rows = path_rows(h, d)
    labels = rows['labels'].long()

    def warm():
        th = rows['a'].clone().requires_grad_(True)
        net.loss(th, rows['x'], labels).backward()

    return warm, w3(h, rows, net)


def w8b(h, d):
    """W3's iteration with the M point losses from one functorch.vmap call instead of a Python loop."""
    from functorch import vmap

    net = lenet(h, d)
    rows = path_rows(h, d)
    x, labels = rows['x'], rows['labels'].long()
    m, nf, lam = h['points'], h['modes'], h['lambda']
    t = torch.linspace(0, 1, m, dtype=torch.float64)
    sines = torch.stack([torch.sin(k * math.pi * t) for k in range(1, nf + 1)], 1)
    sines[0] = 0
    sines[-1] = 0
    sines, t32 = sines.float(), t.float()
    base = (1 - t32)[:, None] * rows['a'] + t32[:, None] * rows['b']
    coef = torch.zeros(nf, net.dim, requires_grad=True)
    opt = torch.optim.Adam([coef], lr=0.01)
    tau = [None]

    def losses(thetas, xs, ls):
        return vmap(lambda th: net.loss(th, xs, ls))(thetas)

    def run():
        opt.zero_grad()
        thetas = base + sines @ coef
        L = losses(thetas, x, labels)
        if tau[0] is None:
            tau[0] = 0.3 * max(float(L.max() - L.min()), 1e-6)
        smooth = ((thetas[1:] - thetas[:-1]) ** 2).sum()
        obj = tau[0] * torch.logsumexp(L / tau[0], 0) + lam * smooth
        obj.backward()
        opt.step()
        return {}

    def warm():
        losses((base + sines @ coef).detach().requires_grad_(True), x[:64], labels[:64]).sum().backward()

    return warm, run


def w9(h, d):
    net = ArchNet(h['models']['resnet20'])
    x, labels, theta0 = d['rx'], d['rlabels'].long(), d['rtheta']

    def run():
        th = theta0.clone().requires_grad_(True)
        loss = net.loss(th, x, labels)
        torch.autograd.grad(loss, th)
        return {'loss': float(loss)}

    return run, run


def w10(h, d):
    net = lenet(h, d)
    rows = path_rows(h, d)
    run = w5(h, rows, net)
    warm = w5({**h, 'lanczosSteps': 1}, rows, net)
    return warm, run


def loss_numbers(net, theta0, x, labels, grad_file):
    def grad(dtype):
        th = theta0.to(dtype).clone().requires_grad_(True)
        loss = net.loss(th, x.to(dtype), labels.long())
        return loss, torch.autograd.grad(loss, th)[0]

    loss, g = grad(torch.float32)
    # Left for our side, which reports ||g - g_torch|| / ||g_torch||.
    g.detach().numpy().astype('<f4').tofile(grad_file)
    # The scale of float32 rounding in this gradient: torch's own float32 result against float64.
    _, g64 = grad(torch.float64)
    err = float((g.double() - g64).norm() / g64.norm())
    return {'loss': float(loss), 'gradNorm': float(g.double().norm()), 'gradFloat32Error': err, 'rows': int(x.shape[0])}


def cnncheck(h, d):
    data = h['_dataPath']

    def run():
        info = {}
        r = loss_numbers(ArchNet(h['models']['resnet20']), d['rtheta'], d['rx'], d['rlabels'], f'{data}.resnet20.grad')
        info.update({f'resnet20.{k}': v for k, v in r.items()})
        if h['models'].get('lenet'):
            rows = path_rows(h, d)
            r = loss_numbers(lenet(h, d), d['a'], rows['x'], rows['labels'], f'{data}.lenet.grad')
            info.update({f'lenet.{k}': v for k, v in r.items()})
        return info

    return (lambda: None), run


WORKLOADS = {'W7': w7, 'W8': w8, 'W8b': w8b, 'W9': w9, 'W10': w10, 'CNNcheck': cnncheck}


def main():
    o = parse_args(WORKLOADS, min_runs=1)
    h, d = load(o.data)
    h['_dataPath'] = o.data
    warm, run = WORKLOADS[o.workload](h, d)
    time_and_report(o, warm, run, min_runs=1)


if __name__ == '__main__':
    main()
