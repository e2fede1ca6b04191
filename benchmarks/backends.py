"""Seconds per epoch of stacked LSTMs on each installed Keras backend (one process each).

    nice -n 10 python benchmarks/backends.py                      # CPU, trimmed shapes
    nice -n 10 python benchmarks/backends.py --shapes 1x32 2x128 4x128 --length 50 100
    python benchmarks/backends.py --n 16384 --length 100 --batch 256 --cudnn-check   # GPU

Each backend runs in its own subprocess (Keras fixes its backend at import). For every
shape it fits ``--epochs`` epochs of the adding problem through stacksearch's own
``build_stacked_lstm``; "first" is the first epoch (tracing/compilation included),
"steady" the median of the later ones. ``--cudnn-check`` repeats the table with
``use_cudnn=False`` forced, to show the cuDNN kernel is actually taken on GPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time

BACKENDS = ("tensorflow", "jax", "torch")


def worker(backend: str, shapes: list[str], lengths: list[int], n: int, batch: int, epochs: int, cudnn: str) -> None:
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from stacksearch import benchmarks
    from stacksearch.model import build_stacked_lstm
    from stacksearch.space import ArchSpec

    if cudnn == "off":  # force the generic kernel: the check that cuDNN is really used
        original = keras.layers.LSTM.__init__

        def no_cudnn(self, *args, **kwargs):
            kwargs["use_cudnn"] = False
            original(self, *args, **kwargs)

        keras.layers.LSTM.__init__ = no_cudnn

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    for length in lengths:
        data = benchmarks.load("adding", length=length, n_train=n, n_val=max(n // 8, batch), n_test=1)
        for shape in shapes:
            depth, width = map(int, shape.split("x"))
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            model = build_stacked_lstm(ArchSpec((width,) * depth, learning_rate=1e-3), data)
            timer = Timer()
            timer.times = []
            model.fit(
                data.x_train,
                data.y_train[:, None],
                validation_data=(data.x_val, data.y_val[:, None]),
                epochs=epochs,
                batch_size=batch,
                verbose=0,
                callbacks=[timer],
            )
            print(
                json.dumps(
                    {
                        "backend": backend,
                        "shape": shape,
                        "length": length,
                        "cudnn": cudnn,
                        "first": timer.times[0],
                        "steady": statistics.median(timer.times[1:]),
                    }
                ),
                flush=True,
            )


def installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    parser.add_argument("--shapes", nargs="+", default=["1x32", "2x32", "4x32", "1x128", "2x128", "4x128", "1x512"])
    parser.add_argument("--length", type=int, nargs="+", default=[50])
    parser.add_argument("--n", type=int, default=1024, help="training sequences per epoch")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="repeat every backend; keep each shape's fastest round")
    parser.add_argument("--cudnn-check", action="store_true")
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cudnn", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.shapes, args.length, args.n, args.batch, args.epochs, args.cudnn)
        return

    rows = []
    modes = ["auto", "off"] if args.cudnn_check else ["auto"]
    available = [b for b in args.backends if installed(b)]
    for b in set(args.backends) - set(available):
        print(f"# {b}: not installed, skipped", flush=True)
    for backend, mode in [(b, m) for _ in range(args.rounds) for b in available for m in modes]:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            backend,
            "--cudnn",
            mode,
            "--shapes",
            *args.shapes,
            "--length",
            *map(str, args.length),
            "--n",
            str(args.n),
            "--batch",
            str(args.batch),
            "--epochs",
            str(args.epochs),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        got = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0:
            print(f"# {backend} (cudnn {mode}) failed: {proc.stderr.strip().splitlines()[-1:]}", flush=True)
        rows.extend(got)
    fastest: dict = {}
    for r in rows:  # rounds interleave the backends; the fastest round is the least disturbed
        key = (r["backend"], r["length"], r["shape"], r["cudnn"])
        if key not in fastest or r["steady"] < fastest[key]["steady"]:
            fastest[key] = r
    rows = list(fastest.values())
    print(
        f"# {platform.node()} {platform.machine()} {os.cpu_count()} CPUs; n={args.n} sequences, "
        f"batch {args.batch}, s/epoch (steady = median after the first, fastest of "
        f"{args.rounds} rounds; first includes compilation)"
    )
    names = [b for b in args.backends if any(r["backend"] == b for r in rows)]
    print(
        f"{'T':>4} {'shape':>6} {'cudnn':>5} "
        + " ".join(f"{b + ' steady':>17} {'first':>7}" for b in names)
        + "   fastest"
    )
    keys = sorted(
        {(r["length"], r["shape"], r["cudnn"]) for r in rows},
        key=lambda k: (k[0], k[2], int(k[1].split("x")[0]), int(k[1].split("x")[1])),
    )
    for length, shape, mode in keys:
        cells, best = [], None
        for b in names:
            r = next(
                (r for r in rows if (r["backend"], r["length"], r["shape"], r["cudnn"]) == (b, length, shape, mode)),
                None,
            )
            cells.append(f"{r['steady']:>17.3f} {r['first']:>7.2f}" if r else f"{'-':>17} {'-':>7}")
            if r and (best is None or r["steady"] < best[1]):
                best = (b, r["steady"])
        print(f"{length:>4} {shape:>6} {mode:>5} " + " ".join(cells) + f"   {best[0] if best else '-'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
