"""Exercise 2 — SpecAugment: the learner's ``time_mask``, ``freq_mask`` and ``spec_augment``.

Introduced with exercise 2 (``book/exercises/ex02_specaugment``). :func:`collect` runs in the
submission's process; :data:`CHECKS` run in the grader's process on the collected data.

The contract the learner implements (stated in the exercise):

* input ``spec`` is ``(batch, channels, n_mels, frames)``; the function returns a **new** tensor
  of the same shape and dtype and leaves its input unchanged;
* each example gets its own mask, shared by all of its channels: a width drawn uniformly from
  ``0 … max_width`` and a start drawn uniformly among the positions where the band fits;
* masked cells are set to ``0.0`` (the mean of a standardised spectrogram);
* all randomness comes from the ``generator`` argument (same seed → same masks);
* ``spec_augment(..., training=False)`` returns the input unchanged.
"""

from __future__ import annotations

import torch

from ..base import Check
from ._common import call, gen, tensor_answer

NAME = "ex02_specaugment"

#: Probe inputs: (batch, channels, n_mels, frames), values far from zero so that a mask is visible.
SMALL = (6, 2, 12, 40)
LARGE = (64, 1, 16, 48)
WIDTH = 10
WIDE = 20


def probe(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.rand(shape, generator=gen(seed)) + 1.0


def collect(ns: dict) -> dict:
    """Call the learner's functions on probe spectrograms (runs in the submission's process)."""
    out: dict = {}
    for kind, width in (("time", WIDTH), ("freq", 5)):
        fn = f"{kind}_mask"
        x = probe(SMALL, 1)
        out[f"{fn}.a"] = call(ns, fn, x, width, gen(0))
        out[f"{fn}.input_after"] = x.clone()
        out[f"{fn}.a_again"] = call(ns, fn, probe(SMALL, 1), width, gen(0))
        out[f"{fn}.b"] = call(ns, fn, probe(SMALL, 1), width, gen(1))
        out[f"{fn}.zero"] = call(ns, fn, probe(SMALL, 1), 0, gen(0))
        out[f"{fn}.large"] = call(ns, fn, probe(LARGE, 2), WIDE if kind == "time" else 8, gen(3))
    x = probe(SMALL, 4)
    out["spec_augment.train"] = call(ns, "spec_augment", x, time_width=6, freq_width=3, generator=gen(5), training=True)
    out["spec_augment.input_after"] = x.clone()
    out["spec_augment.eval"] = call(ns, "spec_augment", probe(SMALL, 4), time_width=6, freq_width=3, generator=gen(5), training=False)
    return out


# ---- grader side -------------------------------------------------------------------------------
def _mask_structure(x: torch.Tensor, y: torch.Tensor, axis: int, max_width: int) -> tuple[bool, str, list[tuple[int, int]]]:
    """Check that ``y`` is ``x`` with one contiguous band per example along ``axis`` set to zero.

    ``axis`` is 3 (frames) or 2 (mel bins) of a ``(batch, channels, n_mels, frames)`` tensor.
    Returns ``(ok, message, [(start, width) per example])``.
    """
    changed = y != x
    if not torch.all(y[changed] == 0):
        return False, "cells outside the mask were changed, or masked cells are not 0.0", []
    across = 0 if axis == 3 else 1  # after reducing channels: (n_mels, frames); reduce the other axis
    bands = []
    axis_name = "frames (last axis)" if axis == 3 else "mel bins (axis 2)"
    for b in range(x.shape[0]):
        # a masked line must be masked for every channel and every cell across the other axis
        per_line = changed[b].any(dim=0).any(dim=across)  # (length along axis)
        full_line = changed[b].all(dim=0).all(dim=across)
        if not torch.equal(per_line, full_line):
            return False, (f"example {b}: the mask does not cover whole {axis_name} lines across all channels; "
                           "mask along the right axis and share one mask between an example's channels"), []
        idx = torch.nonzero(full_line).flatten()
        width = int(idx.numel())
        if width and int(idx[-1] - idx[0]) + 1 != width:
            return False, f"example {b}: the masked {axis_name} are not one contiguous band", []
        if width > max_width:
            return False, f"example {b}: the band is {width} wide, more than max_width={max_width}", []
        bands.append((int(idx[0]) if width else -1, width))
    return True, "", bands


def _is_probe(data, key: str, seed: int, changed: str, unchanged: str, *, needs: str | None = None):
    """The check that answer ``key`` is still the ``SMALL`` probe of ``seed`` (an input left alone, an identity).

    ``needs``: an answer that must exist first (the call whose input ``key`` is), checked in that order.
    Returns ``(passed, message)`` with ``changed`` / ``unchanged`` as the message.
    """
    for name in ([needs] if needs is not None else []) + [key]:
        y, msg = tensor_answer(data, name, shape=SMALL)
        if y is None:
            return False, msg
    if not torch.equal(y, probe(SMALL, seed)):
        return False, changed
    return True, unchanged


def _check_mask(kind: str, axis: int, width: int, wide: int):
    fn = f"{kind}_mask"

    def shape_and_type(data):
        for key in ("a", "a_again", "b", "zero"):
            value, msg = tensor_answer(data, f"{fn}.{key}", shape=SMALL, dtype=torch.float32)
            if value is None:
                return False, msg
        return True, "returns a float32 tensor of the input's shape"

    def structure(data):
        y, msg = tensor_answer(data, f"{fn}.a", shape=SMALL)
        if y is None:
            return False, msg
        ok, msg, bands = _mask_structure(probe(SMALL, 1), y, axis, width)
        if not ok:
            return False, msg
        if all(w == 0 for _, w in bands):
            return False, "nothing was masked in any example"
        return True, "one contiguous zero band per example, along the right axis, shared by the channels"

    def input_unchanged(data):
        return _is_probe(data, f"{fn}.input_after", 1, "the input tensor was modified in place; work on a copy "
                         "(spec.clone())", "input left unchanged", needs=f"{fn}.a")

    def reproducible(data):
        a, m1 = tensor_answer(data, f"{fn}.a", shape=SMALL)
        a2, m2 = tensor_answer(data, f"{fn}.a_again", shape=SMALL)
        b, m3 = tensor_answer(data, f"{fn}.b", shape=SMALL)
        if a is None or a2 is None or b is None:
            return False, m1 or m2 or m3
        if not torch.equal(a, a2):
            return False, "the same generator seed gave different masks: draw every random number from `generator`"
        if torch.equal(a, b):
            return False, "different generator seeds gave the same masks: the masks are not random"
        return True, "random, and reproducible from the generator"

    def per_example(data):
        y, msg = tensor_answer(data, f"{fn}.large", shape=LARGE)
        if y is None:
            return False, msg
        ok, msg, bands = _mask_structure(probe(LARGE, 2), y, axis, wide)
        if not ok:
            return False, msg
        if len(set(bands)) < 8:
            return False, f"only {len(set(bands))} distinct masks over {LARGE[0]} examples: draw a mask per example"
        widths = {w for _, w in bands}
        if len(widths) < 4:
            return False, f"the widths take only the values {sorted(widths)}: draw the width uniformly from 0..max_width"
        starts = {s for s, w in bands if w}
        if len(starts) < 4:
            return False, "the band always starts at the same few positions: draw the start at random"
        return True, f"{len(set(bands))} distinct masks, widths {min(widths)}..{max(widths)}"

    def zero_width(data):
        return _is_probe(data, f"{fn}.zero", 1, "max_width=0 must leave the spectrogram unchanged",
                         "max_width=0 is the identity")

    return [
        Check(f"{fn}: type and shape", 1, shape_and_type),
        Check(f"{fn}: axis and band", 2, structure),
        Check(f"{fn}: input unchanged", 1, input_unchanged),
        Check(f"{fn}: seeded randomness", 1, reproducible),
        Check(f"{fn}: a mask per example", 2, per_example),
        Check(f"{fn}: max_width=0", 1, zero_width),
    ]


def _spec_augment_train(data):
    y, msg = tensor_answer(data, "spec_augment.train", shape=SMALL, dtype=torch.float32)
    if y is None:
        return False, msg
    x = probe(SMALL, 4)
    changed = y != x
    if not torch.all(y[changed] == 0):
        return False, "cells outside the masks were changed"
    n_both = 0
    for b in range(x.shape[0]):
        cols = changed[b].all(dim=0).all(dim=0)  # frames fully masked
        rows = changed[b].all(dim=0).all(dim=1)  # mel bins fully masked
        covered = cols.view(1, 1, -1) | rows.view(1, -1, 1)
        if not torch.equal(changed[b], covered.expand_as(changed[b]) & changed[b]) or not torch.equal(
            changed[b], covered.expand_as(changed[b])
        ):
            return False, f"example {b}: masked cells are not whole frames and whole mel bins"
        if int(cols.sum()) > 6 or int(rows.sum()) > 3:
            return False, f"example {b}: a band wider than time_width=6 / freq_width=3"
        n_both += bool(cols.any() and rows.any())
    if n_both == 0:
        return False, "no example got both a time and a frequency mask"
    return True, "time and frequency masks combined"


def _spec_augment_eval(data):
    return _is_probe(data, "spec_augment.eval", 4,
                     "training=False must return the spectrogram unchanged: augmentation is for training only",
                     "identity at evaluation")


def _spec_augment_input(data):
    return _is_probe(data, "spec_augment.input_after", 4, "spec_augment modified its input in place",
                     "input left unchanged", needs="spec_augment.train")


CHECKS: tuple[Check, ...] = tuple(
    _check_mask("time", 3, WIDTH, WIDE)
    + _check_mask("freq", 2, 5, 8)
    + [
        Check("spec_augment: both masks", 2, _spec_augment_train),
        Check("spec_augment: off at evaluation", 1, _spec_augment_eval),
        Check("spec_augment: input unchanged", 1, _spec_augment_input),
    ]
)
