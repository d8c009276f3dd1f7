"""Models drawn as their measured stages, with the attention pooling as an equation (chapter 4)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

from ..models import run_with_hooks
from ._style import _FONT, _TITLE_FONT, _arrow, _box, _check_width, _shape

__all__ = [
    "architecture_diagram",
    "describe_module",
    "ATTENTION_FORMULA",
]


# ---------------------------------------------------------------------------------------------
# (c) Architectures — chapter 4


def describe_module(module: nn.Module) -> str:
    """A short human description of one layer or block, read from its attributes (``conv 3×3, 1→16``).

    Containers are described as their layers joined by `` · ``.
    """
    def one(m: nn.Module) -> str | None:
        name = type(m).__name__
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size
            return f"conv {k[0]}×{k[1]}, {m.in_channels}→{m.out_channels}"
        if isinstance(m, nn.Conv1d):
            return f"conv1d {m.kernel_size[0]}, {m.in_channels}→{m.out_channels}"
        if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            k = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size, m.kernel_size)
            return f"{'max' if isinstance(m, nn.MaxPool2d) else 'avg'}-pool {k[0]}×{k[1]}"
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            return "batch norm"
        if isinstance(m, (nn.ReLU, nn.Tanh, nn.GELU, nn.Sigmoid)):
            return name
        if isinstance(m, nn.Dropout):
            return f"dropout {m.p:g}"
        if isinstance(m, nn.Linear):
            return f"linear {m.in_features}→{m.out_features}"
        if isinstance(m, (nn.LSTM, nn.GRU)):
            kind = "LSTM" if isinstance(m, nn.LSTM) else "GRU"
            return (f"{'bidirectional ' if m.bidirectional else ''}{kind}, {m.num_layers} layer"
                    f"{'s' if m.num_layers > 1 else ''}, {m.input_size} in, {m.hidden_size} out"
                    f"{' per direction' if m.bidirectional else ''}")
        if name == "AttentionPool":
            first = m.score[0]
            return f"attention pooling: score {first.in_channels}→{first.out_channels}→1, softmax over time"
        if name == "ComputeDeltas":
            return f"+ delta (over {m.win_length} frames)"
        if name == "RegionPool":
            return f"max-pool to {m.freq_regions} regions × {m.time_pool} frames"
        return None

    text = one(module)
    if text is not None:
        return text
    parts = [one(m) for m in module.modules() if m is not module and not list(m.children())]
    parts = [p for p in parts if p]
    return " · ".join(parts) if parts else type(module).__name__


def _stages(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's top-level children, with a ``Sequential`` of blocks (a conv stack) split into its blocks."""
    stages: list[tuple[str, nn.Module]] = []
    for name, child in model.named_children():
        grandchildren = list(child.named_children())
        if isinstance(child, nn.Sequential) and grandchildren and all(list(g.children()) for _, g in grandchildren):
            stages += [(f"{name}.{n}", g) for n, g in grandchildren]
        else:
            stages.append((name, child))
    return stages


def _measure_stages(model: nn.Module, x: torch.Tensor) -> list[dict]:
    """Run ``model`` once and record, in call order, each stage's input and output shape and parameters."""
    records: list[dict] = []

    def record(name: str, module: nn.Module, inputs: tuple, output) -> None:
        out = output[0] if isinstance(output, tuple) else output
        first = inputs[0] if inputs else None
        records.append({
            "name": name, "module": module,
            "in": tuple(first.shape) if isinstance(first, torch.Tensor) else None,
            "out": tuple(out.shape) if isinstance(out, torch.Tensor) else None,
            "params": sum(p.numel() for p in module.parameters()),
        })

    run_with_hooks(model, x, _stages(model), record)
    seen, ordered = set(), []
    for r in records:  # a stage called twice is drawn once
        if r["name"] not in seen:
            seen.add(r["name"])
            ordered.append(r)
    return ordered


ATTENTION_FORMULA = (r"$e_t = v^{\mathsf{T}}\tanh(W h_t + b) + c,\qquad"
                     r"\alpha_t = \frac{\exp(e_t)}{\sum_{s=1}^{T}\exp(e_s)},\qquad z = \sum_{t=1}^{T}\alpha_t\, h_t$")


def architecture_diagram(
    models: Mapping[str, nn.Module] | nn.Module,
    input_shape: Sequence[int],
    *,
    show_formula: bool = True,
    width: float = 10.0,
) -> Figure:
    """Draw models side by side as the stages they run, each with its layers, parameters and measured output shape.

    The stages are the models' own children (a ``Sequential`` of convolution blocks is split into
    its blocks), described from their attributes (:func:`describe_module`) and measured by running
    the model once on a zero input of ``input_shape``: nothing is listed by hand, so the diagram
    follows any change to a model. Where ``forward`` changes a shape between two stages without a
    layer (a mean over frequency, a reshape into a sequence), the arrow says so. With
    ``show_formula``, the attention pooling of :class:`course_lib.models.AttentionPool` is written
    below as an equation.

    Args:
        models: ``{title: model}`` (one column each), or one model.
        input_shape: ``(batch, 1, n_mels, frames)`` of the input the shapes are measured with.
        show_formula: add the attention pooling equation.
        width: figure width, inches.

    Returns:
        The figure; each stage's box has gid ``"block-<column>-<stage>"`` (``block-0-attention``).

    Raises:
        ValueError: no model, too many to read side by side (> 4), or a malformed ``input_shape``.

    Introduced in chapter 4.
    """
    who = "architecture_diagram"
    if isinstance(models, nn.Module):
        models = {type(models).__name__: models}
    if not isinstance(models, Mapping) or not models or not all(isinstance(m, nn.Module) for m in models.values()):
        raise ValueError(f"{who}: models must be a model or a non-empty {{title: model}} mapping, got {type(models).__name__}.")
    if len(models) > 4:
        raise ValueError(f"{who}: {len(models)} models side by side would be unreadable at the column width; draw at most 4.")
    shape = tuple(input_shape)
    if len(shape) != 4 or shape[1] != 1 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(f"{who}: input_shape must be (batch, 1, n_mels, frames) with positive sizes, got {input_shape!r}.")
    width = _check_width(width, who)
    x = torch.zeros(shape)
    measured = {title: _measure_stages(model, x) for title, model in models.items()}

    n_cols = len(models)
    col_w = width / n_cols
    wrap = max(18, int(col_w * 10.8))
    labels = {title: ["\n".join(textwrap.wrap(describe_module(r["module"]), wrap)[:3]) for r in stages]
              for title, stages in measured.items()}
    most_lines = max(label.count("\n") + 2 for column in labels.values() for label in column)
    box_h = 0.16 + most_lines * _FONT / 72 * 1.3
    gap = 0.42
    most = max(len(v) for v in measured.values())
    formula_h = 1.1 if show_formula else 0.0
    top = 0.75 + 0.5  # column title, input line
    height = top + (box_h + gap) * most + 0.85 + formula_h
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    for c, (title, stages) in enumerate(measured.items()):
        model = models[title]
        x0 = c * col_w + 0.1
        w = col_w - 0.2
        cx = x0 + w / 2
        total = sum(p.numel() for p in model.parameters())
        ax.text(cx, height - 0.08, f"{title}\n{total:,} parameters".replace(",", " "), ha="center", va="top",
                fontsize=_TITLE_FONT, fontweight="bold", gid=f"title-{c}")
        y = height - top  # bottom of the input line
        ax.text(cx, y + 0.12, f"input {_shape(shape)}", ha="center", va="center", fontsize=_FONT,
                family="monospace", gid=f"input-{c}")
        previous_out, previous_name = shape, "input"
        for r, label in zip(stages, labels[title]):
            box_top = y - gap
            _arrow(ax, (cx, y), (cx, box_top))
            if y != height - top and previous_out is not None:
                ax.text(cx - 0.07, y - gap / 2, _shape(previous_out), ha="right", va="center", fontsize=_FONT,
                        family="monospace", color="#1f3b73", gid=f"shape-{c}-{previous_name}")
            if r["in"] is not None and previous_out is not None and tuple(r["in"]) != tuple(previous_out):
                ax.text(cx + 0.07, y - gap / 2, f"→ {_shape(r['in'])}", fontsize=_FONT, va="center",
                        ha="left", color="#8a4b00", gid=f"reshape-{c}-{r['name']}")
            is_attention = type(r["module"]).__name__ == "AttentionPool"
            colour = "#fde7c8" if is_attention else ("#e3f1e1" if isinstance(r["module"], (nn.LSTM, nn.GRU)) else "#dbe9f6")
            _box(ax, x0, box_top - box_h, w, box_h, f"{r['name']}  ({r['params']:,} weights)".replace(",", " ") + "\n" + label,
                 colour=colour, gid=f"block-{c}-{r['name']}", fontsize=_FONT)
            previous_out, previous_name = r["out"], r["name"]
            y = box_top - box_h
        if previous_out is not None:
            ax.text(cx, y - 0.08, f"output {_shape(previous_out)}", ha="center", va="top", fontsize=_FONT,
                    family="monospace", color="#1f3b73", gid=f"shape-{c}-{previous_name}")
    ax.text(0.1, formula_h + 0.05, "blue: the output shape of each stage\norange: the shape forward() turns it into "
            "before the next stage (a mean over frequency, or a reshape into a sequence)",
            fontsize=_FONT, va="bottom", ha="left", gid="legend")
    if show_formula:
        ax.text(width / 2, 0.7, ATTENTION_FORMULA, ha="center", va="center", fontsize=_TITLE_FONT + 1, gid="formula")
        ax.text(width / 2, 0.2,
                "score each time step h_t; a softmax over time gives weights α_t ≥ 0 that sum to 1; "
                "z is the weighted average",
                ha="center", va="center", fontsize=_FONT, gid="formula-caption")
    fig.subplots_adjust(left=0.005, right=0.995, top=0.995, bottom=0.005)
    return fig
