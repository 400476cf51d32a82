"""
numpy float64 baseline for `neurostream bench`: steps/s of one online RFLO step and one RTRL step, written the
way a numpy notebook would (vectorised per step, 4 inputs, 4 outputs, per-step updates). Prints one JSON object.

    python3 bench/numpy_steps.py [--quick]
    python3 bench/numpy_steps.py --serve   (one line per request on stdin, "rtrl 32 0.3": that learner at that N for
                                            that many seconds, continuing its stream; answers with steps/s, one JSON
                                            line each; so another benchmark can interleave numpy with its own rounds)
"""
import json
import sys
import time

import numpy as np

QUICK = "--quick" in sys.argv
RUNS = 3 if QUICK else 5
SECONDS = 0.1 if QUICK else 0.3
M, O, TAU, LR = 4, 4, 10.0, 0.01


def rflo_stepper(N, rng):
    W_rec = rng.normal(0, 1.5 / np.sqrt(N), (N, N))
    W_in = rng.uniform(-1, 1, (N, M))
    b = np.zeros(N)
    W_out = rng.uniform(-0.1, 0.1, (O, N)) / np.sqrt(N)
    B = rng.normal(0, 1 / np.sqrt(O), (N, O))
    h = np.full(N, 0.1)
    P = np.zeros((N, N))
    Q = np.zeros((N, M))
    p = np.zeros(N)
    a = 1.0 / TAU

    def step(x, y_star):
        nonlocal h, W_rec, W_in, b, W_out, P, Q, p
        u = W_rec @ h + W_in @ x + b
        t = np.tanh(u)
        d = a * (1 - t * t)
        P = (1 - a) * P + np.outer(d, h)
        Q = (1 - a) * Q + np.outer(d, x)
        p = (1 - a) * p + d
        h = (1 - a) * h + a * t
        y = W_out @ h
        e = y_star - y
        fb = B @ e
        W_rec += LR * fb[:, None] * P
        W_in += LR * fb[:, None] * Q
        b += LR * fb * p
        W_out += LR * np.outer(e, h)

    return step


def rtrl_stepper(N, rng):
    W_rec = rng.normal(0, 1.5 / np.sqrt(N), (N, N))
    W_out = rng.uniform(-0.1, 0.1, (O, N)) / np.sqrt(N)
    h = np.full(N, 0.1)
    S = np.zeros((N, N, N))  # dh_j / dW_rec_ab (inputs and bias left out: W_rec dominates the cost)
    a = 1.0 / TAU
    eye = np.eye(N)

    def step(x, y_star):
        nonlocal h, W_rec, W_out, S
        u = W_rec @ h
        t = np.tanh(u)
        d = a * (1 - t * t)
        direct = np.einsum("ja,b->jab", eye, h)
        S = (1 - a) * S + d[:, None, None] * (direct + np.tensordot(W_rec, S, axes=(1, 0)))
        h = (1 - a) * h + a * t
        y = W_out @ h
        e = y_star - y
        W_rec += LR * np.tensordot(W_out.T @ e, S, axes=(0, 0))
        W_out += LR * np.outer(e, h)

    return step


def measure(make, N):
    rng = np.random.default_rng(1)
    step = make(N, rng)
    xs = [np.sin(np.arange(M) + k / 5) for k in range(64)]
    ys = [0.5 * np.cos(np.arange(O) + k / 7) for k in range(64)]
    k = 0
    for _ in range(50):
        step(xs[k & 63], ys[k & 63]); k += 1
    rates = []
    for _ in range(RUNS):
        n = 0
        t0 = time.perf_counter()
        while True:
            for _ in range(10):
                step(xs[k & 63], ys[k & 63]); k += 1
            n += 10
            dt = time.perf_counter() - t0
            if dt >= SECONDS:
                break
        rates.append(n / dt)
    rates.sort()
    return rates[len(rates) // 2], rates


def serve():
    makers = {"rflo": rflo_stepper, "rtrl": rtrl_stepper}
    live = {}
    xs = [np.sin(np.arange(M) + k / 5) for k in range(64)]
    ys = [0.5 * np.cos(np.arange(O) + k / 7) for k in range(64)]
    for line in sys.stdin:
        learner, n, seconds = line.split()
        key = (learner, int(n))
        if key not in live:
            live[key] = [makers[learner](int(n), np.random.default_rng(1)), 0]
            for _ in range(50):
                live[key][0](xs[live[key][1] & 63], ys[live[key][1] & 63]); live[key][1] += 1
        step, k = live[key]
        count = 0
        t0 = time.perf_counter()
        while True:
            for _ in range(10):
                step(xs[k & 63], ys[k & 63]); k += 1
            count += 10
            dt = time.perf_counter() - t0
            if dt >= float(seconds):
                break
        live[key][1] = k
        print(json.dumps({"learner": learner, "N": int(n), "steps_per_s": count / dt}), flush=True)


if "--serve" in sys.argv:
    serve()
    sys.exit(0)

records = []
for N in [16, 32, 64, 128, 256]:
    med, runs = measure(rflo_stepper, N)
    records.append({"learner": "rflo", "engine": "float", "backend": "numpy", "N": N, "steps_per_s": med, "runs": runs})
for N in [8, 16, 32, 64]:
    med, runs = measure(rtrl_stepper, N)
    records.append({"learner": "rtrl", "engine": "float", "backend": "numpy", "N": N, "steps_per_s": med, "runs": runs})
print(json.dumps({"numpy": np.__version__, "records": records}))
