"""Forecasting benchmarks: the Mackey–Glass series (generated) and yearly sunspots (statsmodels).

Both are windowed with :func:`stacksearch.data.forecast_windows`: chronological
train/validation/test parts, no window across a boundary, scaling from the training rows,
and the persistence forecast as the trivial baseline.

Example:
    >>> data = load_mackey_glass(n_points=400, window=8)
    >>> data.x_train.shape, data.metric
    ((272, 8, 1), 'smape')
"""

from __future__ import annotations

import numpy as np

from stacksearch.benchmarks import register, require
from stacksearch.data import SequenceData, forecast_windows
from stacksearch.exceptions import ConfigError

__all__ = ["mackey_glass_series", "load_mackey_glass", "load_sunspots"]

_FORECAST_METRICS = ("smape", "mse", "mae")


def _check_metric(metric: str, allowed: tuple[str, ...]) -> str:
    if metric not in allowed:
        raise ConfigError(f"benchmark.args.metric: {metric!r} is not one of {', '.join(allowed)}")
    return metric


def mackey_glass_series(
    n_points: int,
    tau: float = 17.0,
    sample_step: float = 6.0,
    dt: float = 0.1,
    warmup: float = 500.0,
    seed: int | None = 0,
    beta: float = 0.2,
    gamma: float = 0.1,
    power: float = 10.0,
) -> np.ndarray:
    """Integrate dx/dt = beta x(t-tau) / (1 + x(t-tau)^power) - gamma x(t) and sample it.

    Fourth-order Runge–Kutta with step ``dt`` (the delayed term at half steps is the mean
    of its neighbours, exact to the method's order for ``tau`` a multiple of ``dt``). The
    history before t=0 is 1.2, perturbed by ``U(-0.1, 0.1)`` noise drawn from ``seed``
    (``None``: no noise); the first ``warmup`` time units are dropped, then one value every
    ``sample_step`` time units is kept. With tau=17 the series is chaotic, in [0.4, 1.35].

    Example:
        >>> series = mackey_glass_series(100)
        >>> series.shape, bool(0.2 < series.min() and series.max() < 1.5)
        ((100,), True)
    """
    lag = int(round(tau / dt))
    every = int(round(sample_step / dt))
    if lag < 1 or abs(lag * dt - tau) > 1e-9 or every < 1 or abs(every * dt - sample_step) > 1e-9:
        raise ConfigError(
            f"benchmark.args: tau={tau} and sample_step={sample_step} must be positive multiples of dt={dt}"
        )
    start = lag + int(round(warmup / dt))
    total = start + every * n_points
    history = np.full(lag + 1, 1.2)
    if seed is not None:
        history += np.random.default_rng(seed).uniform(-0.1, 0.1, size=lag + 1)
    x = history.tolist() + [0.0] * (total - lag)

    def slope(now: float, delayed: float) -> float:
        return beta * delayed / (1.0 + delayed**power) - gamma * now

    half = 0.5 * dt
    for i in range(lag, total):
        now, d0, d1 = x[i], x[i - lag], x[i - lag + 1]
        mid = 0.5 * (d0 + d1)
        k1 = slope(now, d0)
        k2 = slope(now + half * k1, mid)
        k3 = slope(now + half * k2, mid)
        k4 = slope(now + dt * k3, d1)
        x[i + 1] = now + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.asarray(x[start + every : total + 1 : every], dtype=np.float64)


@register(
    "mackey_glass",
    "Mackey-Glass (tau=17) chaotic series generated in code: forecast 6 time units ahead, sMAPE",
)
def load_mackey_glass(
    n_points: int = 2000,
    tau: float = 17.0,
    sample_step: float = 6.0,
    window: int = 16,
    horizon: int = 1,
    split: tuple[float, float, float] = (0.7, 0.15, 0.15),
    metric: str = "smape",
    seed: int = 0,
) -> SequenceData:
    """Windowed Mackey–Glass forecasting: from ``window`` samples, predict the next ``horizon``.

    Samples are ``sample_step`` time units apart, so the default task is the classic one
    (Lapedes & Farber 1987; Jang 1993): predict x(t+6) from the past, here 16 samples (96
    time units, about two quasi-periods) of it. ``seed`` perturbs the initial history: a
    different seed gives a different chaotic trajectory. Inputs are standardised; targets
    are divided by their training mean, which keeps them positive so sMAPE (scale-free)
    reads the same as on the raw series. Baseline: persistence sMAPE (repeat the last value).
    """
    if not isinstance(n_points, (int, np.integer)) or n_points < 1:
        raise ConfigError(f"benchmark.args.n_points: {n_points!r} must be a positive integer")
    metric = _check_metric(metric, _FORECAST_METRICS)
    series = mackey_glass_series(int(n_points), tau=tau, sample_step=sample_step, seed=seed)
    reference = None
    if metric == "smape" and tau == 17.0:
        reference = {
            "value": 14.35,
            "source": "NeuroBench (Yik et al.), 1 x 40 LSTM, sMAPE over 30 runs on their own Mackey-Glass "
            "series with autoregressive prediction: a different series and protocol from this "
            "one-step windowed forecast, so context rather than a target",
        }
    return forecast_windows(
        series,
        window=window,
        horizon=horizon,
        split=split,
        metric=metric,
        target_scaling="mean",
        columns=["x"],
        name="mackey_glass",
        reference=reference,
        meta={
            "generator": {"tau": float(tau), "sample_step": float(sample_step), "n_points": int(n_points), "seed": seed}
        },
        where="benchmark mackey_glass",
    )


@register(
    "sunspots",
    "yearly sunspot numbers 1700-2008 (shipped with statsmodels): forecast next year, MSE",
    extra="benchmarks",
)
def load_sunspots(
    window: int = 12,
    horizon: int = 1,
    split: tuple[float, float, float] = (0.7, 0.15, 0.15),
    metric: str = "mse",
) -> SequenceData:
    """Yearly sunspot activity (309 values), windowed: from ``window`` years, predict the next ``horizon``.

    Split in time order (1700–1915 train, then validation, then test by default). Values
    are standardised with the training years' mean and standard deviation, so MSE is in
    units of the training variance (``meta["forecast"]["scaling"]`` converts back).
    Baseline: persistence (next year equals this year). Needs ``statsmodels``.
    """
    metric = _check_metric(metric, ("mse", "mae"))
    datasets = require("statsmodels.datasets", "sunspots")
    frame = datasets.sunspots.load_pandas().data
    years = frame["YEAR"].to_numpy()
    values = frame["SUNACTIVITY"].to_numpy(dtype=np.float64)
    return forecast_windows(
        values,
        window=window,
        horizon=horizon,
        split=split,
        metric=metric,
        columns=["SUNACTIVITY"],
        name="sunspots",
        reference=None,
        meta={"years": [int(years[0]), int(years[-1])], "source": "statsmodels.datasets.sunspots"},
        where="benchmark sunspots",
    )
