"""Build a Keras 3 stacked LSTM (or GRU) from an :class:`ArchSpec`, or a searched stack inside your own model.

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
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import optuna

from stacksearch._moved import forwarder
from stacksearch.data import SequenceData
from stacksearch.exceptions import ConfigError, TrialRejected
from stacksearch.metrics import metric as get_metric
from stacksearch.space import ArchSpec, SearchSpace

if TYPE_CHECKING:
    import keras

__all__ = [
    "build_stacked_lstm",
    "stack_layers",
    "collected_stacks",
    "compile_for",
    "keras_metric",
    "released_traces",
    "fresh_session",
    "active_backend",
    "is_keras_model",
]

_STACKS: ContextVar[list[ArchSpec] | None] = ContextVar("stacksearch_stacks", default=None)

__getattr__ = forwarder(
    __name__, dict.fromkeys(("select_backend", "resolve_backend", "auto_backend"), "stacksearch.backend")
)


def active_backend() -> str:
    """The Keras backend in use (loads Keras)."""
    import keras

    return keras.backend.backend()


def is_keras_model(value: Any) -> bool:
    """Whether ``value`` is a ``keras.Model`` (loads Keras)."""
    import keras

    return isinstance(value, keras.Model)


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


def _apply_stack(x: Any, spec: ArchSpec, *, return_sequences: bool, prefix: str = "") -> tuple[Any, list[Any]]:
    """Apply ``spec``'s recurrent layers to ``x``: (output, the layers made, for counting)."""
    import keras

    layer_cls = keras.layers.LSTM if spec.cell == "lstm" else keras.layers.GRU
    links = spec.connections(int(x.shape[-1]), sequence_output=return_sequences)
    made: list[Any] = []
    for index, (units, link) in enumerate(zip(spec.widths, links)):
        sequences = index < spec.depth - 1 or return_sequences
        layer = layer_cls(units, return_sequences=sequences, name=f"{prefix}{spec.cell}_{index}")
        if spec.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"{prefix}bidirectional_{spec.cell}_{index}")
        made.append(layer)
        h = layer(x)
        if spec.dropout > 0:
            h = keras.layers.Dropout(spec.dropout, name=f"{prefix}dropout_{index}")(h)
        if link == "projection":
            made.append(keras.layers.Dense(int(h.shape[-1]), use_bias=False, name=f"{prefix}projection_{index}"))
            x = made[-1](x)
        x = keras.layers.Add(name=f"{prefix}residual_{index}")([x, h]) if link else h
    return x, made


def build_stacked_lstm(spec: ArchSpec, data: SequenceData, *, compile: bool = True) -> keras.Model:
    """A stacked recurrent model: every layer but the last returns its whole sequence.

    The last layer returns one vector for regression and classification, and a sequence
    for sequence labelling. Right-padded input is masked when ``data.mask_value`` is set.
    Layer defaults (tanh/sigmoid, no recurrent dropout, no unrolling) keep Keras's cuDNN
    kernel usable on GPU backends, also inside ``Bidirectional``; ``spec.dropout`` is
    applied between layers, and ``spec.residual`` adds each layer's input to its output
    (see :class:`ArchSpec`).
    """
    import keras

    inputs = keras.Input(shape=(None, data.n_features), name="sequence")
    x = inputs
    if data.mask_value is not None:
        x = keras.layers.Masking(mask_value=data.mask_value, name="mask")(x)
    x, _ = _apply_stack(x, spec, return_sequences=data.task == "sequence_labelling")
    activation = None if data.task == "regression" else "softmax"
    outputs = keras.layers.Dense(data.n_outputs, activation=activation, name="head")(x)
    variant = ("bi" if spec.bidirectional else "") + spec.cell + ("_residual" if spec.residual else "")
    model = keras.Model(inputs, outputs, name=f"stacked_{variant}_" + "x".join(map(str, spec.widths)))
    if compile:
        compile_for(model, data, spec.learning_rate)
    return model


def compile_for(model: keras.Model, data: SequenceData, learning_rate: float) -> None:
    """Compile ``model`` as stacksearch does: Adam, the task's loss, and ``data.metric`` logged per epoch."""
    import keras

    loss = "mse" if data.task == "regression" else "sparse_categorical_crossentropy"
    metric = keras_metric(data.metric)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=loss,
        metrics=[metric] if metric is not None else [],
    )


def stack_layers(
    trial: optuna.Trial, inputs: keras.KerasTensor, space: SearchSpace, *, return_sequences: bool = False
) -> keras.KerasTensor:
    """A searched recurrent stack applied to ``inputs`` (a ``(batch, steps, features)`` Keras tensor).

    Samples depth, widths, cell, ``bidirectional``, ``residual``, learning rate and the
    optional extras from ``space`` under the usual parameter names, chains
    ``return_sequences`` (``True`` on every layer but the last, whose choice is
    ``return_sequences``: one vector, or a sequence for sequence labelling), applies
    ``space``'s dropout between layers, and keeps the mask of ``inputs`` (``Embedding(...,
    mask_zero=True)``, ``Masking``). Records on the trial ``width_mode``, ``depth``,
    ``widths``, ``bidirectional``, ``residual`` and ``n_params`` = ``stack_params``, the
    block's exact weights (``max_params`` and ``iso_params`` budgets count the block
    alone). A spec over budget sets ``reject_reason`` and raises ``optuna.TrialPruned``.
    One stack per model: its layers are named ``stack_*``. Compile with the trial's
    ``learning_rate`` yourself, or let :class:`stacksearch.ModelObjective` do it.

    Example:
        >>> import keras, optuna, stacksearch as ss  # doctest: +SKIP
        >>> def build(trial):  # doctest: +SKIP
        ...     tokens = keras.Input((None,), dtype="int32")
        ...     x = keras.layers.Embedding(5000, 32, mask_zero=True)(tokens)
        ...     x = ss.stack_layers(trial, x, ss.SearchSpace(depth=(1, 3), bidirectional=(False, True)))
        ...     return keras.Model(tokens, keras.layers.Dense(2, activation="softmax")(x))
    """
    shape = tuple(inputs.shape)
    if len(shape) != 3 or shape[-1] is None:
        raise ConfigError(
            f"stack_layers: inputs of shape {shape} are not a sequence (batch, steps, features) with known features"
        )
    n_in = int(shape[-1])
    stacks = _STACKS.get()
    if stacks:
        raise ConfigError("stack_layers: called twice for one model; a trial samples one stack (depth, widths, ...)")
    trial.set_user_attr("width_mode", space.width_mode)
    try:
        spec = space.sample(trial, n_in, 0, sequence_output=return_sequences)
    except TrialRejected as rejected:
        for key, value in space.variant_attrs(trial.params).items():
            trial.set_user_attr(key, value)
        trial.set_user_attr("reject_reason", str(rejected))
        raise optuna.TrialPruned(f"rejected: {rejected}") from None
    x, made = _apply_stack(inputs, spec, return_sequences=return_sequences, prefix="stack_")
    n_params = spec.stack_params(n_in, sequence_output=return_sequences)
    built = sum(layer.count_params() for layer in made)
    if built != n_params:
        raise RuntimeError(f"parameter count mismatch: {built} != {n_params} for {spec}")
    attrs: dict[str, Any] = {
        "depth": spec.depth,
        "widths": list(spec.widths),
        "bidirectional": spec.bidirectional,
        "residual": spec.residual,
        "n_params": n_params,
        "stack_params": n_params,
    }
    for key, attr in attrs.items():
        trial.set_user_attr(key, attr)
    if stacks is not None:
        stacks.append(spec)
    return x


@contextlib.contextmanager
def collected_stacks() -> Iterator[list[ArchSpec]]:
    """The specs every :func:`stack_layers` call inside the block sampled (this thread only).

    Example:
        >>> with collected_stacks() as stacks:
        ...     pass  # build(trial) here
        >>> stacks
        []
    """
    stacks: list[ArchSpec] = []
    token = _STACKS.set(stacks)
    try:
        yield stacks
    finally:
        _STACKS.reset(token)
