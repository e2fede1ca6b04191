"""Raw ``torch.nn.LSTM`` (cuDNN on GPU) seconds per epoch: the floor Keras is compared with.

    python benchmarks/raw_torch_lstm.py --n 16384 --length 100 --batch 256 --shapes 1x64 2x256 4x256 4x1024

Same task and shapes as benchmarks/backends.py (adding problem, MSE, Adam), a plain
training loop with no validation; prints steady seconds per epoch (median after the first).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=["1x32", "2x128", "4x128"])
    parser.add_argument("--length", type=int, nargs="+", default=[50])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    import torch

    from stacksearch.benchmarks.synthetic import adding_problem

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"# torch {torch.__version__} on {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}; "
        f"cudnn {torch.backends.cudnn.is_available() and device == 'cuda'}"
    )
    print(f"{'T':>4} {'shape':>6} {'steady s/epoch':>15} {'first':>7}")
    for length in args.length:
        x, y = adding_problem(args.n, length, np.random.default_rng(0))
        x, y = torch.tensor(x, device=device), torch.tensor(y[:, None], device=device)
        for shape in args.shapes:
            depth, width = map(int, shape.split("x"))
            torch.manual_seed(0)
            lstm = torch.nn.LSTM(2, width, num_layers=depth, batch_first=True).to(device)
            head = torch.nn.Linear(width, 1).to(device)
            opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-3)
            times = []
            for _ in range(args.epochs):
                start = time.perf_counter()
                order = torch.randperm(args.n, device=device)
                for i in range(0, args.n, args.batch):
                    idx = order[i : i + args.batch]
                    out, _ = lstm(x[idx])
                    loss = torch.nn.functional.mse_loss(head(out[:, -1]), y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                if device == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
            row = {
                "backend": "torch-raw",
                "shape": shape,
                "length": length,
                "first": times[0],
                "steady": statistics.median(times[1:]),
            }
            print(f"{length:>4} {shape:>6} {row['steady']:>15.3f} {row['first']:>7.2f}   {json.dumps(row)}", flush=True)


if __name__ == "__main__":
    main()
