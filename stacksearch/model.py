"""Build a Keras 3 stacked LSTM (or GRU) from an :class:`ArchSpec`.

Keras is imported lazily, so :func:`stacksearch.backend.select_backend` can set ``KERAS_BACKEND`` first.

Example:
    >>> from stacksearch import benchmarks
    >>> from stacksearch.space import ArchSpec
    >>> data = benchmarks.load("adding", length=10, n_train=8, n_val=4, n_test=4)
    >>> model = build_stacked_lstm(ArchSpec((16, 8)), data)  # doctest: +SKIP
    >>> model.count_params() == ArchSpec((16, 8)).n_params(2, 1)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from stacksearch._moved import forwarder
from stacksearch.data import SequenceData
from stacksearch.metrics import metric as get_metric
from stacksearch.space import ArchSpec

if TYPE_CHECKING:
    import keras

__all__ = ["build_stacked_lstm", "keras_metric", "released_traces", "fresh_session", "active_backend"]

__getattr__ = forwarder(
    __name__, dict.fromkeys(("select_backend", "resolve_backend", "auto_backend"), "stacksearch.backend")
)


def active_backend() -> str:
    """The Keras backend in use (loads Keras)."""
    import keras

    return keras.backend.backend()


def fresh_session(seed: int | None = None, *, free_memory: bool = True) -> None:
    """Clear the Keras session (collecting garbage) before a model is built; seed every generator.

    Example:
        >>> fresh_session(seed=0)  # doctest: +SKIP
    """
    import keras

    keras.backend.clear_session(free_memory=free_memory)
    if seed is not None:
        keras.utils.set_random_seed(seed)


@contextlib.contextmanager
def released_traces() -> Iterator[None]:
    """Let TensorFlow free the graphs traced inside the block once their model is gone.

    On TensorFlow, Keras all-reduces every gradient through ``tf.custom_gradient``, which
    while tracing registers a gradient function, holding the whole traced train step, in
    TensorFlow's process-wide gradient registry; nothing ever removes it, so each trained
    model kept about 15 MB that ``clear_session`` cannot free (docs/performance.md). Those
    functions would only be needed to differentiate a train step itself. On leaving the
    block, the ones registered inside it are dropped. (For the models built here, with
    LSTM or GRU cells, masking and dropout, every such entry is the all-reduce's; a
    custom gradient traced in another thread's forward pass at that moment would lose
    its entry too.) Other backends: nothing to do.

    Example:
        >>> with released_traces():
        ...     pass  # build, fit and score a model here
    """
    ops = sys.modules.get("tensorflow.python.framework.ops")
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):
        yield
        return
    before = set(registry)
    try:
        yield
    finally:
        for name in [name for name in list(registry) if name.startswith("CustomGradient-") and name not in before]:
            registry.pop(name, None)


def keras_metric(name: str) -> Any:
    """The Keras metric object logged per epoch under ``Metric.monitor`` (None: the loss itself)."""
    spec = get_metric(name)
    if spec.is_loss:
        return None
    import keras

    builders = {
        "mse": keras.metrics.MeanSquaredError,
        "mae": keras.metrics.MeanAbsoluteError,
        "accuracy": keras.metrics.SparseCategoricalAccuracy,
        "smape": lambda name: keras.metrics.MeanMetricWrapper(_smape, name=name),
    }
    return builders[spec.name](name=spec.keras_name)


def _smape(y_true: Any, y_pred: Any) -> Any:
    from keras import ops

    denom = ops.abs(y_true) + ops.abs(y_pred)
    safe = ops.where(denom == 0, ops.ones_like(denom), denom)
    return 100.0 * ops.mean(ops.where(denom == 0, 0.0, 2.0 * ops.abs(y_pred - y_true) / safe), axis=-1)


def build_stacked_lstm(spec: ArchSpec, data: SequenceData, *, compile: bool = True) -> keras.Model:
    """A stacked recurrent model: every layer but the last returns its whole sequence.

    The last layer returns one vector for regression and classification, and a sequence
    for sequence labelling. Right-padded input is masked when ``data.mask_value`` is set.
    Layer defaults (tanh/sigmoid, no recurrent dropout, no unrolling) keep Keras's cuDNN
    kernel usable on GPU backends; ``spec.dropout`` is applied between layers.
    """
    import keras

    layer_cls = keras.layers.LSTM if spec.cell == "lstm" else keras.layers.GRU
    inputs = keras.Input(shape=(None, data.n_features), name="sequence")
    x = inputs
    if data.mask_value is not None:
        x = keras.layers.Masking(mask_value=data.mask_value, name="mask")(x)
    for index, units in enumerate(spec.widths):
        last = index == spec.depth - 1
        return_sequences = not last or data.task == "sequence_labelling"
        x = layer_cls(units, return_sequences=return_sequences, name=f"{spec.cell}_{index}")(x)
        if spec.dropout > 0:
            x = keras.layers.Dropout(spec.dropout, name=f"dropout_{index}")(x)
    activation = None if data.task == "regression" else "softmax"
    outputs = keras.layers.Dense(data.n_outputs, activation=activation, name="head")(x)
    model = keras.Model(inputs, outputs, name=f"stacked_{spec.cell}_" + "x".join(map(str, spec.widths)))
    if compile:
        loss = "mse" if data.task == "regression" else "sparse_categorical_crossentropy"
        metric = keras_metric(data.metric)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=spec.learning_rate),
            loss=loss,
            metrics=[metric] if metric is not None else [],
        )
    return model
