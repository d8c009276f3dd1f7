"""Which weights learn: from scratch, fine-tuned, frozen encoder (chapter 5)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from .._checks import check_int
from ._style import _FONT, _FROZEN, _LEARNS, _TITLE_FONT, _arrow, _box, _check_width

__all__ = [
    "transfer_diagram",
    "DEFAULT_TRANSFER_MODES",
]


# ---------------------------------------------------------------------------------------------
# (d) Transfer learning — chapter 5

#: The three ways of training chapter 5 compares: ``(label, encoder train mode, blocks unfrozen, pretrained weights)``.
DEFAULT_TRANSFER_MODES: tuple[tuple[str, str, int, bool], ...] = (
    ("from scratch", "full", 1, False),
    ("fine-tuned: top block", "partial", 1, True),
    ("frozen encoder", "frozen", 1, True),
)


def transfer_diagram(
    encoder: nn.Module,
    *,
    n_classes: int,
    head: nn.Module | None = None,
    modes: Sequence[tuple[str, str, int, bool]] = DEFAULT_TRANSFER_MODES,
    width: float = 10.0,
) -> Figure:
    """Draw which blocks of an encoder + head learn in each way of training: from scratch, fine-tuned, frozen.

    For every mode the encoder's own ``set_train_mode`` is applied and the blocks whose parameters
    then have ``requires_grad`` are drawn as learning (orange) — measured, not assumed; the
    encoder's train mode is restored afterwards. Each block shows its parameter count and whether
    it starts from pretrained or random weights.

    Args:
        encoder: a :class:`course_lib.pretrained.base.PretrainedEncoder` (``blocks()``,
            ``set_train_mode(mode, n_unfrozen)``, ``train_mode``, ``n_unfrozen``, ``output_dim``).
        n_classes: outputs of the head.
        head: the classification head (default ``nn.Linear(encoder.output_dim, n_classes)``); it always learns.
        modes: ``(label, mode, n_unfrozen, pretrained)`` per column (1 … 4 columns).
        width: figure width, inches.

    Returns:
        The figure; boxes have gids ``"mode-<column>-<block>"`` and ``"mode-<column>-head"``.

    Raises:
        TypeError: ``encoder`` lacks ``blocks`` / ``set_train_mode``.
        ValueError: bad ``n_classes``, ``modes`` or ``width`` (named in the message).

    Introduced in chapter 5.
    """
    who = "transfer_diagram"
    if not all(hasattr(encoder, a) for a in ("blocks", "set_train_mode", "train_mode", "n_unfrozen")):
        raise TypeError(
            f"{who}: encoder must be a course_lib.pretrained encoder with blocks() and set_train_mode(), "
            f"got {type(encoder).__name__}."
        )
    n_classes = check_int(n_classes, "n_classes", minimum=2, owner=who, allow_numpy=True)
    width = _check_width(width, who)
    modes = list(modes)
    if not 1 <= len(modes) <= 4 or not all(isinstance(m, tuple) and len(m) == 4 for m in modes):
        raise ValueError(f"{who}: modes must be 1 to 4 tuples (label, mode, n_unfrozen, pretrained), got {modes!r}.")
    if head is None:
        head = nn.Linear(int(encoder.output_dim), n_classes)
    blocks = [(name, sum(p.numel() for m in mods for p in m.parameters())) for name, mods in encoder.blocks()]
    head_params = sum(p.numel() for p in head.parameters())

    saved = (encoder.train_mode, encoder.n_unfrozen)
    learning: list[list[bool]] = []
    try:
        for _label, mode, n_unfrozen, _pretrained in modes:
            encoder.set_train_mode(mode, n_unfrozen)
            learning.append([any(p.requires_grad for m in mods for p in m.parameters()) for _, mods in encoder.blocks()])
    finally:
        encoder.set_train_mode(saved[0], max(1, saved[1]))

    n_rows = len(blocks) + 2  # input, blocks, head
    row_h = 0.78
    height = 0.6 + row_h * n_rows + 0.75
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    col_w = width / len(modes)
    fmt = lambda n: f"{n:,}".replace(",", " ")  # noqa: E731
    for c, ((label, _mode, _n, pretrained), learns) in enumerate(zip(modes, learning)):
        x0, w = c * col_w + 0.2, col_w - 0.4
        trainable = head_params + sum(n for (_, n), on in zip(blocks, learns) if on)
        ax.text(x0 + w / 2, height - 0.2, f"{label}\n{fmt(trainable)} weights learn", ha="center", va="top",
                fontsize=_TITLE_FONT, fontweight="bold", gid=f"mode-{c}-title")
        y = 0.6
        _box(ax, x0, y, w, row_h * 0.72, "log-mel input", colour="#f2f2f2", gid=f"mode-{c}-input", fontsize=_FONT)
        rows = [(name, n, on, "pretrained" if pretrained else "random init") for (name, n), on in zip(blocks, learns)]
        rows.append(("head", head_params, True, "random init"))
        for name, n, on, start in rows:
            _arrow(ax, (x0 + w / 2, y + row_h * 0.72), (x0 + w / 2, y + row_h))
            y += row_h
            state = "learns" if on else "frozen"
            title = f"{name if name != 'head' else 'head (' + type(head).__name__ + ')'}: {state}"
            _box(ax, x0, y, w, row_h * 0.72, f"{title}\n{fmt(n)} weights, {start}", colour=_LEARNS if on else _FROZEN,
                 gid=f"mode-{c}-{name}", fontsize=_FONT)
    handles = [Rectangle((0, 0), 1, 1, facecolor=_LEARNS, edgecolor="#444444"),
               Rectangle((0, 0), 1, 1, facecolor=_FROZEN, edgecolor="#444444")]
    ax.legend(handles, ["learns (requires_grad=True)", "frozen (requires_grad=False)"], loc="lower center",
              ncol=2, fontsize=_FONT, frameon=False, bbox_to_anchor=(0.5, -0.01))
    fig.subplots_adjust(left=0.005, right=0.995, top=0.99, bottom=0.02)
    return fig
