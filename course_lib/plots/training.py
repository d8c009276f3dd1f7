"""Training figures: loss / accuracy / learning rate per epoch and the confusion matrix
(introduced in chapter 2)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ._style import FULL_WIDTH_IN


def _history_series(history, key: str) -> list[float]:
    value = history[key] if isinstance(history, dict) else getattr(history, key, [])
    return list(value or [])


def plot_history(history, *, axes=None, title: str | None = None, show_lr: bool = True):
    """Loss and accuracy per epoch, training and validation, and the learning rate.

    Args:
        history: a :class:`course_lib.train.History` (or its ``to_dict()``).
        axes: two or three axes to draw into (a new figure when ``None``).
        title: a title above the figure.
        show_lr: add a third panel with the learning rate per epoch.

    The best epoch (best validation value) is marked with a dotted line; when ``fit`` kept the last
    epoch's weights instead (``restore_best=False``) the label says "not restored". Accuracy is
    shown in percent.

    Returns:
        The matplotlib figure.

    Introduced in chapter 2.
    """
    epochs = _history_series(history, "epoch")
    if not epochs:
        raise ValueError("plot_history: the history is empty (no epoch was run).")
    lr = _history_series(history, "lr")
    n_panels = 3 if show_lr and lr else 2
    if axes is None:
        # full column width (FULL_WIDTH_IN), so that 10-pt text stays >= 10 px on the page
        fig, axes = plt.subplots(1, n_panels, figsize=(FULL_WIDTH_IN, 3.4 if n_panels == 3 else 3.6))
    else:
        fig = axes[0].figure
    best = history["best_epoch"] if isinstance(history, dict) else getattr(history, "best_epoch", None)
    kept = history.get("kept_epoch") if isinstance(history, dict) else getattr(history, "kept_epoch", None)
    best_label = f"best epoch ({best})" + (", not restored" if kept is not None and kept != best else "")
    for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "accuracy", "accuracy (%)")):
        scale = 100.0 if key == "accuracy" else 1.0
        for split, style in (("train", "-"), ("val", "--")):
            values = _history_series(history, f"{split}_{key}")
            if values:
                ax.plot(epochs[: len(values)], np.asarray(values) * scale, style, marker="o", markersize=3,
                        label="training" if split == "train" else "validation")
        if best is not None:
            ax.axvline(best, color="grey", linestyle=":", linewidth=1, label=best_label)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=10)  # one legend: the same lines in both panels
    if n_panels == 3:
        axes[2].plot(epochs[: len(lr)], lr, marker="o", markersize=3, color="tab:green")
        axes[2].set_ylabel("learning rate (epoch mean)")
        axes[2].ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    for ax in axes[:n_panels]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers: no 2.5
        ax.tick_params(labelsize=10)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    matrix,
    class_names,
    *,
    normalize: bool = False,
    ax=None,
    title: str | None = None,
    cmap: str = "Blues",
):
    """A confusion matrix with class names: rows are true classes, columns predicted classes.

    Args:
        matrix: ``(n_classes, n_classes)`` counts (e.g. ``classification_metrics(...)["confusion_matrix"]``).
        class_names: one name per class.
        normalize: show each row as a percentage of its class (the diagonal is per-class recall)
            instead of counts; the numbers in the cells follow (whole percents, so they fit a cell).
        ax: axes to draw into (a new figure when ``None``).
        title: optional title.

    Returns:
        The axes.

    Introduced in chapter 2.
    """
    counts = np.asarray(matrix, dtype=float)
    n = len(class_names)
    if counts.shape != (n, n):
        raise ValueError(f"plot_confusion_matrix: matrix of shape {counts.shape} does not match {n} class names.")
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        values = 100.0 * np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    else:
        values = counts
    if ax is None:
        size = max(4.0, 0.45 * n + 2.0)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    top = 100.0 if normalize else max(1.0, values.max())
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=top)
    bar = plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                       label="% of the true class" if normalize else "clips")
    bar.ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))  # no "1.5 clips"
    bar.ax.tick_params(labelsize=10)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    # upright labels would overlap beyond a few classes; vertical ones never do
    ax.set_xticklabels(class_names, rotation=60 if n <= 6 else 90, ha="right" if n <= 6 else "center",
                       rotation_mode="anchor" if n <= 6 else "default", fontsize=10)
    ax.set_yticklabels(class_names, fontsize=10)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = top / 2
    for i in range(n):
        for j in range(n):
            if counts[i, j] == 0:
                continue
            text = f"{values[i, j]:.0f}" if normalize else f"{int(counts[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=10 if n <= 12 else 8,
                    color="white" if values[i, j] > threshold else "black")
    if title:
        ax.set_title(title)
    return ax

