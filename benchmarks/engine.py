"""One epoch of MNIST: bpstudio's matrix-based fast path against the book's per-example algorithm.

Run from the project's root:  python benchmarks/engine.py [MNIST_FOLDER]

Both run in this process on the same data, with BLAS limited to one thread (at m = 10 the matrices
are too small for threads to pay). The book's algorithm is written out below as network.py has it:
a list of (x, y) column pairs, shuffled each epoch, and update_mini_batch calling backprop once per
example and summing the gradients. Prints seconds per epoch, examples per second and the ratio.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from bpstudio.core.data import load_mnist_idx
from bpstudio.core.session import Session

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist"


# -- the book's algorithm (network.py, chapter 1/2), per example --------------------------------
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class BookNetwork:
    def __init__(self, weights, biases):
        self.weights = [w.copy() for w in weights]
        self.biases = [b.copy() for b in biases]
        self.num_layers = len(weights) + 1

    def sgd_epoch(self, training_data, mini_batch_size, eta, rnd):
        rnd.shuffle(training_data)
        n = len(training_data)
        for k in range(0, n, mini_batch_size):
            self.update_mini_batch(training_data[k : k + mini_batch_size], eta)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for layer in range(2, self.num_layers):
            z = zs[-layer]
            delta = np.dot(self.weights[-layer + 1].transpose(), delta) * sigmoid_prime(z)
            nabla_b[-layer] = delta
            nabla_w[-layer] = np.dot(delta, activations[-layer - 1].transpose())
        return nabla_b, nabla_w

    def accuracy(self, x, labels):
        a = x.T
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return float(np.mean(np.argmax(a, axis=0) == labels))


def book_epoch(data, weights, biases, m, eta):
    training = [
        (x.reshape(-1, 1).copy(), np.eye(10)[y].reshape(-1, 1))
        for x, y in zip(data.train.x, data.train.y)
    ]
    net = BookNetwork(weights, biases)
    t0 = time.perf_counter()
    with np.errstate(over="ignore"):
        net.sgd_epoch(training, m, eta, random.Random(0))
    seconds = time.perf_counter() - t0
    return seconds, net.accuracy(data.validation.x, data.validation.y)


def fast_epoch(data, sizes, m, eta, dtype):
    s = Session(data, sizes, eta=eta, mini_batch_size=m, seed=0, dtype=dtype, evaluate=False)
    start = (s.network.weights, s.network.biases)
    for _ in range(20):  # warm up the buffers, then start again from the same weights
        s.step_batch()
    s.reset()
    start = ([w.astype(np.float64) for w in s.network.weights], [b for b in s.network.biases])
    t0 = time.perf_counter()
    while s.epoch == 0:
        s.run(s.batches_per_epoch)
    seconds = time.perf_counter() - t0
    return seconds, s.accuracy("validation"), start


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_MNIST
    data = load_mnist_idx(folder)
    n = len(data.train)
    threadpool_limits(1)
    print(f"MNIST from {folder}: {n} training examples; one epoch each; BLAS on one thread\n")
    print(
        f"{'network':<15}{'dtype':<9}{'m':>4}{'s/epoch':>10}{'ex/s':>10}{'val acc':>9}"
        f"{'vs book':>9}"
    )
    rows = []
    for sizes in ([784, 30, 10], [784, 100, 10]):
        fast_s, fast_acc, (w0, b0) = fast_epoch(data, sizes, 10, 3.0, np.float64)
        book_s, book_acc = book_epoch(data, w0, [b.astype(np.float64) for b in b0], 10, 3.0)
        f32_s, f32_acc, _ = fast_epoch(data, sizes, 32, 3.0, np.float32)
        for label, dt, m, sec, acc in (
            ("book", "float64", 10, book_s, book_acc),
            ("bpstudio", "float64", 10, fast_s, fast_acc),
            ("bpstudio", "float32", 32, f32_s, f32_acc),
        ):
            name = f"{sizes}" if label == "book" else ""
            print(
                f"{name:<15}{dt:<9}{m:>4}{sec:>10.2f}{n / sec:>10.0f}{acc:>9.2%}"
                f"{book_s / sec:>8.1f}×  {label}"
            )
        rows.append((sizes, book_s / fast_s, book_s / f32_s))
    print()
    for sizes, r64, r32 in rows:
        print(
            f"{sizes}: fast path {r64:.1f}× the book's algorithm (float64, m = 10); "
            f"float32, m = 32: {r32:.1f}×"
        )
    sizes, r64, r32 = rows[0]
    ok = r64 >= 8 and r32 >= 15
    print(
        f"targets at [784, 30, 10]: ≥ 8× (float64, m = 10) and ≥ 15× (float32, m = 32): "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
