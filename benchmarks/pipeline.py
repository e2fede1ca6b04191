"""Data pipeline: numpy arrays (what stacksearch feeds ``fit``) vs a prefetched tf.data pipeline.

    nice -n 10 python benchmarks/pipeline.py                  # tensorflow
    KERAS_BACKEND=jax nice -n 10 python benchmarks/pipeline.py

Takes the largest built-in benchmark that needs no extra (by training-array bytes, at its
default arguments) and fits the same small stacked LSTM with (a) numpy arrays passed to
``model.fit`` and (b) ``tf.data.Dataset.from_tensor_slices(...).shuffle().batch().prefetch(AUTOTUNE)``.
Alternates the two, several rounds, and reports the median steady epoch of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--shape", default="1x32")
    args = parser.parse_args()

    from stacksearch import benchmarks
    from stacksearch.backend import select_backend
    from stacksearch.model import build_stacked_lstm
    from stacksearch.space import ArchSpec
    from stacksearch.train import _targets

    backend = select_backend(None)
    import keras
    import tensorflow as tf

    sizes = {}
    for name in benchmarks.names():
        try:
            d = benchmarks.load(name)
        except Exception:  # noqa: BLE001 - benchmarks needing an extra are skipped
            continue
        sizes[name] = (d.x_train.nbytes, d)
    name = max(sizes, key=lambda k: sizes[k][0])
    data = sizes[name][1]
    print(
        f"# backend {backend}; largest benchmark: {name} x_train {data.x_train.shape} "
        f"({data.x_train.nbytes / 2**20:.1f} MiB); model {args.shape}, batch {args.batch}"
    )
    depth, width = map(int, args.shape.split("x"))
    y_train, y_val = _targets(data, "train"), _targets(data, "val")

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    def run(kind: str) -> list[float]:
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = build_stacked_lstm(ArchSpec((width,) * depth), data)
        timer = Timer()
        timer.times = []
        if kind == "numpy":
            model.fit(
                data.x_train,
                y_train,
                validation_data=(data.x_val, y_val),
                epochs=args.epochs,
                batch_size=args.batch,
                shuffle=True,
                verbose=0,
                callbacks=[timer],
            )
        else:
            train = (
                tf.data.Dataset.from_tensor_slices((data.x_train, y_train))
                .shuffle(len(data.x_train), seed=0, reshuffle_each_iteration=True)
                .batch(args.batch)
                .prefetch(tf.data.AUTOTUNE)
            )
            val = tf.data.Dataset.from_tensor_slices((data.x_val, y_val)).batch(args.batch).prefetch(tf.data.AUTOTUNE)
            model.fit(train, validation_data=val, epochs=args.epochs, verbose=0, callbacks=[timer])
        return timer.times[1:]

    steady = {"numpy": [], "tf.data": []}
    for _ in range(args.rounds):
        for kind in steady:
            steady[kind].extend(run(kind))
    base = statistics.median(steady["numpy"])
    print(f"{'input':<8} {'median s/epoch':>15} {'min':>7} {'max':>7} {'vs numpy':>9}")
    for kind, times in steady.items():
        med = statistics.median(times)
        print(f"{kind:<8} {med:>15.3f} {min(times):>7.3f} {max(times):>7.3f} {base / med:>8.2f}x")


if __name__ == "__main__":
    main()
