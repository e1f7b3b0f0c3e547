#!/usr/bin/env python3
"""PyTorch reference of the Landscape benchmark workloads W1-W6 (bench/main.ts).

Run by the benchmark as a subprocess, one workload per process, on the data the
benchmark exported (same network, same rows, same parameter vectors, same
directions). Prints one JSON object on stdout.

How each workload is written, and why (see also the README's Performance section):
  W1  one epoch of mini-batch SGD (batch 64): nn.Sequential of bias-free
      nn.Linear layers, F.cross_entropy, torch.optim.SGD; the textbook loop.
  W2  one L-BFGS-GSS step (Yu & Morozov 2026, Algorithm 1) as in the engine:
      gradient, two-loop recursion over 10 pairs in float64, bracketing and
      golden-section line search of at most 6 evaluations under no_grad.
  W3  one FourierPathFinder iteration, M = 50 points, N_F = 10 modes, minimax
      objective, full batch, torch.optim.Adam; the M points are evaluated one
      by one, as the paper's code does, then one backward pass.
  W4  a 41x41 2D slice: point by point under no_grad, the way loss-landscape
      plotting code does it (set the weights, evaluate). A batched variant
      (torch.bmm over 256 grid points at a time) is timed too, as "W4b".
  W5  the top Hessian eigenvalue by 20 Lanczos steps with full
      reorthogonalisation (float64): the gradient graph is built once with
      create_graph=True and every Hessian-vector product is one double-backward
      through it (retain_graph=True), as PyHessian does.
  W6  RBF kernel PCA (gamma = 1/P) of 96 vectors in float64: exact pairwise
      squared distances (torch.cdist without the matmul shortcut), centring,
      torch.linalg.eigh.
"""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (hlen,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8 : 8 + hlen].decode('utf-8'))
    base = 8 + hlen
    arrays = {}
    for name, a in header['arrays'].items():
        dtype = {'float32': np.float32, 'float64': np.float64, 'int32': np.int32}[a['dtype']]
        count = int(np.prod(a['shape'])) if a['shape'] else 1
        arr = np.frombuffer(raw, dtype=dtype, count=count, offset=base + a['offset']).reshape(a['shape'])
        arrays[name] = torch.from_numpy(arr.copy())
    return header, arrays


def rss_mb():
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def blas_library():
    """The BLAS shared library this process loaded (torch's matmuls go through it)."""
    try:
        with open('/proc/self/maps') as f:
            libs = sorted({line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line})
        return libs[0] if libs else 'unknown'
    except OSError:
        return 'unknown'


class Net:
    """The dense network of a flat parameter vector, laid out as the engine lays it out."""

    def __init__(self, layers, bias):
        self.layers = layers
        self.bias = bias
        self.shapes = []
        off = 0
        for i in range(len(layers) - 1):
            a, b = layers[i], layers[i + 1]
            self.shapes.append((off, a, b, off + a * b if bias else None))
            off += a * b + (b if bias else 0)
        self.dim = off

    def forward(self, theta, x):
        h = x
        last = len(self.shapes) - 1
        for i, (off, a, b, boff) in enumerate(self.shapes):
            h = h @ theta[off : off + a * b].view(a, b)
            if boff is not None:
                h = h + theta[boff : boff + b]
            if i < last:
                h = torch.relu(h)
        return h

    def loss(self, theta, x, labels):
        return F.cross_entropy(self.forward(theta, x), labels)

    def forward_batched(self, thetas, x):
        """thetas [B, dim] -> logits [B, N, out] by torch.bmm (the W4b variant)."""
        nb = thetas.shape[0]
        h = x.unsqueeze(0).expand(nb, -1, -1)
        last = len(self.shapes) - 1
        for i, (off, a, b, boff) in enumerate(self.shapes):
            h = torch.bmm(h, thetas[:, off : off + a * b].reshape(nb, a, b))
            if boff is not None:
                h = h + thetas[:, boff : boff + b].unsqueeze(1)
            if i < last:
                h = torch.relu(h)
        return h


def module_from(net, theta):
    mods = []
    last = len(net.shapes) - 1
    for i, (off, a, b, boff) in enumerate(net.shapes):
        lin = torch.nn.Linear(a, b, bias=boff is not None)
        with torch.no_grad():
            lin.weight.copy_(theta[off : off + a * b].view(a, b).t())
            if boff is not None:
                lin.bias.copy_(theta[boff : boff + b])
        mods.append(lin)
        if i < last:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


# ---------------------------------------------------------------- workloads


def w1(h, d, net):
    model = module_from(net, d['a'])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, labels = d['x'], d['labels'].long()
    n = x.shape[0]
    gen = torch.Generator().manual_seed(0)

    def run():
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, 64):
            idx = perm[s : s + 64]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), labels[idx])
            loss.backward()
            opt.step()
        return {}

    return run


GOLDEN = (3 - math.sqrt(5)) / 2


def golden_search(phi, phi_many, s, f0, max_evals=6, tol=1e-4):
    """The engine's bracketing + golden-section search (src/engine/optim/golden.ts)."""
    evals = 0
    best = [0.0, f0]

    def note(a, v):
        if v < best[1]:
            best[0], best[1] = a, v

    def one(a):
        nonlocal evals
        evals += 1
        v = phi(a)
        v = math.inf if math.isnan(v) else v
        note(a, v)
        return v

    def two(a1, a2):
        nonlocal evals
        evals += 2
        v1, v2 = [math.inf if math.isnan(v) else v for v in phi_many([a1, a2])]
        note(a1, v1)
        note(a2, v2)
        return v1, v2

    a, fa, b = 0.0, f0, s
    fb = one(b)
    if fb >= fa:
        lo, flo, hi, has_mid = 0.0, f0, b, False
        mid = fmid = math.nan
    else:
        closed = False
        c = b
        while evals < max_evals:
            c = 2 * b
            fc = one(c)
            if fc >= fb:
                closed = True
                break
            a, fa, b, fb = b, fb, c, fc
        if not closed:
            return best[0] if best[1] < f0 else 0.0, evals
        lo, flo, mid, fmid, hi, has_mid = a, fa, b, fb, c, True
    shrunk = False
    while evals < max_evals and hi - lo > tol * (abs(lo) + abs(hi)):
        if not has_mid:
            x1 = lo + GOLDEN * (hi - lo)
            if not shrunk and max_evals - evals >= 2:
                x2 = hi - GOLDEN * (hi - lo)
                f1, f2 = two(x1, x2)
                if f1 < flo and f1 <= f2:
                    mid, fmid, hi, has_mid = x1, f1, x2, True
                elif f2 < flo and f2 < f1:
                    lo, flo, mid, fmid, has_mid = x1, f1, x2, f2, True
                else:
                    hi = x1
                shrunk = True
            else:
                f1 = one(x1)
                if f1 < flo:
                    mid, fmid, has_mid = x1, f1, True
                else:
                    hi = x1
            continue
        right = hi - mid > mid - lo
        x = mid + GOLDEN * (hi - mid) if right else mid - GOLDEN * (mid - lo)
        fx = one(x)
        if fx < fmid:
            if right:
                lo = mid
            else:
                hi = mid
            flo = fmid if right else flo
            mid, fmid = x, fx
        elif right:
            hi = x
        else:
            lo, flo = x, fx
    return (best[0] if best[1] < f0 else 0.0), evals


class LbfgsGss:
    def __init__(self, net, x, labels, history=10):
        self.net, self.x, self.labels, self.history = net, x, labels, history
        self.s, self.y, self.rho = [], [], []
        self.prev = None
        self.first = 0.2

    def step(self, theta):
        t = theta.clone().requires_grad_(True)
        loss = self.net.loss(t, self.x, self.labels)
        (g32,) = torch.autograd.grad(loss, t)
        th = theta.double()
        g = g32.double()
        if self.prev is not None:
            s = th - self.prev[0]
            y = g - self.prev[1]
            sy = float(s @ y)
            sn, yn = float(s.norm()), float(y.norm())
            if sn * yn == 0 or sy / (sn * yn) < 1e-4:
                self.s, self.y, self.rho = [], [], []
            else:
                self.s.append(s)
                self.y.append(y)
                self.rho.append(1 / (sy + 1e-6))
                if len(self.s) > self.history:
                    self.s.pop(0), self.y.pop(0), self.rho.pop(0)
        self.prev = (th, g)
        q = g.clone()
        m = len(self.s)
        alpha = [0.0] * m
        for i in range(m - 1, -1, -1):
            alpha[i] = self.rho[i] * float(self.s[i] @ q)
            q -= alpha[i] * self.y[i]
        if m:
            q *= float(self.s[-1] @ self.y[-1]) / float(self.y[-1] @ self.y[-1])
        for i in range(m):
            beta = self.rho[i] * float(self.y[i] @ q)
            q += (alpha[i] - beta) * self.s[i]
        rn = float(q.norm())
        if not (rn > 0 and math.isfinite(rn)):
            return theta, 1
        dvec = -q / rn

        def phi_many(alphas):
            with torch.no_grad():
                return [float(self.net.loss((th + a * dvec).float(), self.x, self.labels)) for a in alphas]

        a, evals = golden_search(lambda a: phi_many([a])[0], phi_many, self.first * rn, float(loss))
        self.first = 0.2
        return (th + a * dvec).float(), 1 + evals


def w2(h, d, net):
    x, labels = d['x'], d['labels'].long()
    opt = LbfgsGss(net, x, labels)
    state = {'theta': d['a'].clone()}
    for _ in range(h['lbfgsWarmup']):
        state['theta'], _ = opt.step(state['theta'])

    def run():
        state['theta'], evals = opt.step(state['theta'])
        return {'evaluations': evals}

    return run


def w3(h, d, net):
    x, labels = d['x'], d['labels'].long()
    m, nf, lam = h['points'], h['modes'], h['lambda']
    a, b = d['a'], d['b']
    t = torch.linspace(0, 1, m, dtype=torch.float64)
    sines = torch.stack([torch.sin(n * math.pi * t) for n in range(1, nf + 1)], 1)
    sines[0] = 0
    sines[-1] = 0
    sines = sines.float()
    t32 = t.float()
    coef = torch.zeros(nf, net.dim, requires_grad=True)
    opt = torch.optim.Adam([coef], lr=0.01)
    tau = [None]

    def run():
        opt.zero_grad()
        thetas = []
        losses = []
        for i in range(m):
            th = (1 - t32[i]) * a + t32[i] * b + sines[i] @ coef
            thetas.append(th)
            losses.append(net.loss(th, x, labels))
        L = torch.stack(losses)
        if tau[0] is None:
            tau[0] = 0.3 * max(float(L.max() - L.min()), 1e-6)
        smooth = sum(((thetas[i + 1] - thetas[i]) ** 2).sum() for i in range(m - 1))
        obj = tau[0] * torch.logsumexp(L / tau[0], 0) + lam * smooth
        obj.backward()
        opt.step()
        return {}

    return run


def grid_coeffs(h):
    n = h['slicePoints']
    vals = [-1 + 2 * i / (n - 1) for i in range(n)]
    return [(vals[ix], vals[iy]) for iy in range(n) for ix in range(n)]


def w4(h, d, net):
    x, labels = d['x'], d['labels'].long()
    c, d1, d2 = d['a'], d['d1'], d['d2']
    coeffs = grid_coeffs(h)

    def run():
        out = torch.empty(len(coeffs))
        with torch.no_grad():
            for r, (al, be) in enumerate(coeffs):
                out[r] = net.loss(c + al * d1 + be * d2, x, labels)
        return {}

    return run


def w4b(h, d, net):
    x, labels = d['x'], d['labels'].long()
    c, D = d['a'], torch.stack([d['d1'], d['d2']])
    C = torch.tensor(grid_coeffs(h), dtype=torch.float32)
    chunk = 256

    def run():
        outs = []
        with torch.no_grad():
            for s in range(0, C.shape[0], chunk):
                thetas = c + C[s : s + chunk] @ D
                logits = net.forward_batched(thetas, x)
                nb = thetas.shape[0]
                l = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.repeat(nb), reduction='none')
                outs.append(l.view(nb, -1).mean(1))
        return {}

    return run


def w5(h, d, net):
    x, labels = d['x'], d['labels'].long()
    theta0 = d['a']
    steps = h['lanczosSteps']
    gen = torch.Generator().manual_seed(0)

    def run():
        th = theta0.clone().requires_grad_(True)
        loss = net.loss(th, x, labels)
        (g,) = torch.autograd.grad(loss, th, create_graph=True)
        dim = th.numel()
        Q = []
        alphas, betas = [], []
        v = torch.randn(dim, generator=gen, dtype=torch.float64)
        v /= v.norm()
        for j in range(steps):
            Q.append(v)
            (hv,) = torch.autograd.grad(g, th, grad_outputs=v.float(), retain_graph=True)
            w = hv.double()
            a = float(w @ v)
            alphas.append(a)
            w -= a * v
            if j > 0:
                w -= betas[-1] * Q[-2]
            for q in Q:
                w -= float(w @ q) * q
            bn = float(w.norm())
            if j + 1 == steps:
                break
            betas.append(bn)
            v = w / bn
        T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        return {'eigenvalue': float(np.linalg.eigvalsh(T)[-1])}

    return run


def w5check(h, d, net):
    """Not timed: lambda_max by Lanczos run to convergence and the exact trace
    (sum of e_i^T H e_i over all unit vectors), both by double backward, for
    the agreement the benchmark prints beside W5."""
    x, labels = d['x'], d['labels'].long()
    theta0 = d['a']
    steps = h['agreementLanczosSteps']

    def run():
        th = theta0.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(net.loss(th, x, labels), th, create_graph=True)
        dim = th.numel()

        def hvp(v):
            (hv,) = torch.autograd.grad(g, th, grad_outputs=v.float(), retain_graph=True)
            return hv.double()

        Q, alphas, betas = [], [], []
        v = torch.randn(dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        v /= v.norm()
        for j in range(min(steps, dim)):
            Q.append(v)
            w = hvp(v)
            alphas.append(float(w @ v))
            for q in Q:
                w -= float(w @ q) * q
            for q in Q:
                w -= float(w @ q) * q
            bn = float(w.norm())
            if j + 1 == steps or bn == 0:
                break
            betas.append(bn)
            v = w / bn
        T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        trace = 0.0
        e = torch.zeros(dim, dtype=torch.float64)
        for i in range(dim):
            e[i] = 1.0
            trace += float(hvp(e)[i])
            e[i] = 0.0
        return {'lambdaMax': float(np.linalg.eigvalsh(T)[-1]), 'trace': trace, 'hvp': 'double backward'}

    return run


def w6(h, d, net):
    X = d['checkpoints'].double()
    n, dim = X.shape

    def run():
        sq = torch.cdist(X, X, compute_mode='donot_use_mm_for_euclid_dist') ** 2
        K = torch.exp(-sq / dim)
        col = K.mean(0)
        Kc = K - col[None, :] - col[:, None] + K.mean()
        vals, vecs = torch.linalg.eigh(Kc)
        return {'top': float(vals[-1])}

    return run


WORKLOADS = {'W1': w1, 'W2': w2, 'W3': w3, 'W4': w4, 'W4b': w4b, 'W5': w5, 'W5check': w5check, 'W6': w6}


def parse_args(workloads, min_runs):
    """The command line both references share; sets torch's threads and seed."""
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--workload', required=True, choices=sorted(workloads))
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--warmup', type=int, default=1)
    runs = f'{min_runs} run' + ('s' if min_runs > 1 else '')
    p.add_argument('--budget', type=float, default=20.0, help=f'seconds of timed runs at most (at least {runs})')
    o = p.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(0)
    return o


def time_and_report(o, warm, run, min_runs):
    """Warms up, times up to o.repeats runs (stopping past o.budget once min_runs are done), prints the JSON report."""
    for _ in range(o.warmup):
        warm()
    base = rss_mb()
    times, info = [], {}
    start = time.perf_counter()
    while len(times) < o.repeats:
        t0 = time.perf_counter()
        info = run() or {}
        times.append((time.perf_counter() - t0) * 1e3)
        if len(times) >= min_runs and time.perf_counter() - start > o.budget:
            break
    print(json.dumps({
        'workload': o.workload,
        'threads': torch.get_num_threads(),
        'torch': torch.__version__,
        'blas': blas_library(),
        'timesMs': times,
        'rssBaseMb': base,
        'rssPeakMb': peak_rss_mb(),
        'info': info,
    }))


def main():
    o = parse_args(WORKLOADS, min_runs=2)
    h, d = load(o.data)
    net = Net(h['layers'], h['bias'])
    run = WORKLOADS[o.workload](h, d, net)
    time_and_report(o, run, run, min_runs=2)


if __name__ == '__main__':
    main()
