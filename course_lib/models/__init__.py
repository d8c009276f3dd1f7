"""The course's spectrogram classifiers, one module per model, and a registry to build them by name.

Introduced in chapter 2 (``simple_cnn``) and chapter 4 (the others):

================  ======================  ===================================
name              class                   module
================  ======================  ===================================
``simple_cnn``    :class:`SimpleCNN`      ``course_lib.models.simple_cnn``
``attention_cnn`` :class:`AttentionCNN`   ``course_lib.models.attention_cnn``
``audio_rnn``     :class:`AudioRNN`       ``course_lib.models.audio_rnn``
``crnn``          :class:`CRNN`           ``course_lib.models.crnn``
================  ======================  ===================================

Each registry name is its class's name in snake case.

All take ``(batch, 1, n_mels, frames)`` log-mel input and return ``(batch, n_classes)`` logits; the
three attention models also return ``(batch, frames)`` attention weights (summing to 1 over time)
when called with ``return_attention=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import torch
from torch import nn

from .._checks import check_int
from .attention_cnn import AttentionCNN
from .audio_rnn import AudioRNN
from .base import AttentionClassifier, AttentionPool, AudioClassifier, pooled_length, spread_attention
from .crnn import CRNN
from .simple_cnn import SimpleCNN

__all__ = [
    "MODELS",
    "build_model",
    "count_parameters",
    "layer_shapes",
    "run_with_hooks",
    "receptive_field",
    "ReceptiveField",
    "supports_attention",
    "AudioClassifier",
    "AttentionClassifier",
    "AttentionPool",
    "SimpleCNN",
    "AttentionCNN",
    "AudioRNN",
    "CRNN",
    "pooled_length",
    "spread_attention",
]

#: Model name → class. ``build_model(name, ...)`` looks names up here.
MODELS: dict[str, type[AudioClassifier]] = {
    "simple_cnn": SimpleCNN,
    "attention_cnn": AttentionCNN,
    "audio_rnn": AudioRNN,
    "crnn": CRNN,
}


def build_model(name: str, n_classes: int, n_mels: int, *, seed: int | None = None, **kwargs) -> AudioClassifier:
    """Build a registered model by name; the one way the course seeds initial weights (``seed=``).

    Args:
        name: one of ``MODELS`` (``"simple_cnn"``, ``"attention_cnn"``, ``"audio_rnn"``, ``"crnn"``).
        n_classes: number of classes.
        n_mels: mel bands of the input spectrograms.
        seed: seed of the initial weights (a non-negative integer). They are drawn from
            ``torch.manual_seed(seed)`` inside a forked random state, so the weights are those of
            ``seed_everything(seed)`` followed by ``build_model(...)``, and the caller's global random
            state is left as it was. ``None`` draws them from the current global state.
        **kwargs: further constructor arguments of that model (e.g. ``channels``, ``hidden``, ``dropout``).

    Returns:
        The model, freshly initialised.

    Introduced in chapter 2.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}.")
    if seed is not None:
        check_int(seed, "seed", minimum=0, owner="build_model")
    try:
        if seed is None:
            model = MODELS[name](n_classes=n_classes, n_mels=n_mels, **kwargs)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = MODELS[name](n_classes=n_classes, n_mels=n_mels, **kwargs)
    except TypeError as err:
        raise TypeError(f"build_model({name!r}): {err}. See help(course_lib.models.{MODELS[name].__name__}).") from None
    # What build_model needs to make the same model again (stored in checkpoints by save_checkpoint).
    model.build_spec = {"name": name, "n_classes": n_classes, "n_mels": n_mels, **kwargs}
    return model


def supports_attention(model: nn.Module) -> bool:
    """Whether ``model(x, return_attention=True)`` returns ``(logits, attention)``."""
    return bool(getattr(model, "returns_attention", False))


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with ``requires_grad``). Introduced in chapter 2."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def run_with_hooks(
    model: nn.Module,
    x: torch.Tensor,
    modules: Iterable[tuple[str, nn.Module]],
    record: Callable[[str, nn.Module, tuple, Any], None],
) -> None:
    """Run ``model`` once on ``x`` and call ``record(name, module, inputs, output)`` each time one of ``modules`` runs.

    The model is run in eval mode without gradients, and left in the mode it was in; the hooks are
    removed afterwards, also when the forward pass fails.

    Args:
        model: any ``nn.Module``.
        x: an input batch, e.g. ``(1, 1, n_mels, frames)``.
        modules: ``(name, module)`` pairs of submodules of ``model`` to watch.
        record: called after each watched module's forward, in call order.
    """
    hooks = []
    for name, module in modules:
        def hook(module: nn.Module, inputs: tuple, output, name: str = name) -> None:
            record(name, module, inputs, output)

        hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)


def layer_shapes(model: nn.Module, x: torch.Tensor) -> list[tuple[str, str, tuple[int, ...]]]:
    """Run ``model`` on ``x`` and record the output shape of every leaf layer, in call order.

    Shapes are measured, not computed by hand, so they are right for any input size. The model is
    run in eval mode without gradients and left in the mode it was in.

    Args:
        model: any ``nn.Module``.
        x: an input batch, e.g. ``(1, 1, n_mels, frames)``.

    Returns:
        ``[(layer_name, layer_type, output_shape), ...]``; a layer called twice appears twice.

    Introduced in chapter 2.
    """
    records: list[tuple[str, str, tuple[int, ...]]] = []

    def record(name: str, module: nn.Module, _inputs: tuple, output) -> None:
        out = output[0] if isinstance(output, tuple) else output
        if isinstance(out, torch.Tensor):
            records.append((name, type(module).__name__, tuple(out.shape)))

    leaves = [(name, module) for name, module in model.named_modules() if module is not model and not list(module.children())]
    run_with_hooks(model, x, leaves, record)
    return records


class ReceptiveField(NamedTuple):
    """Receptive field of a convolution stack, along (frequency, time), in input bins and frames.

    Attributes:
        size: ``(bands, frames)`` of the input patch that one position of the last feature map depends on.
        stride: ``(bands, frames)`` between neighbouring positions of the last feature map.
    """

    size: tuple[int, int]
    stride: tuple[int, int]


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def receptive_field(model: nn.Module) -> ReceptiveField:
    """The receptive field of the 2-D convolution stack of ``model``, from its layers' kernels and strides.

    Walks the ``Conv2d``, ``MaxPool2d`` and ``AvgPool2d`` layers in the order they were defined (a
    plain chain, as in every course model; 1-D layers after the stack are ignored) and applies, per
    axis, ``size += (kernel - 1) * dilation * stride_so_far`` and ``stride_so_far *= stride``.
    Padding moves the patch but does not change its size.

    >>> from torch import nn
    >>> receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3)))
    ReceptiveField(size=(8, 8), stride=(2, 2))

    Raises:
        ValueError: ``model`` has no 2-D convolution or pooling layer.

    Introduced in chapter 2 (four 3 × 3 convolutions, each followed by 2 × 2 pooling, see 46 × 46).
    """
    size, stride = [1, 1], [1, 1]
    found = False
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            kernel, step, dilation = _pair(module.kernel_size), _pair(module.stride), _pair(module.dilation)
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            kernel = _pair(module.kernel_size)
            step = _pair(module.stride if module.stride is not None else module.kernel_size)
            dilation = _pair(getattr(module, "dilation", 1))
        else:
            continue
        found = True
        for axis in range(2):
            size[axis] += (kernel[axis] - 1) * dilation[axis] * stride[axis]
            stride[axis] *= step[axis]
    if not found:
        raise ValueError(f"{type(model).__name__} has no Conv2d or 2-D pooling layer: no receptive field to compute.")
    return ReceptiveField((size[0], size[1]), (stride[0], stride[1]))
