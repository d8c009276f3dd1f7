"""Exercise 4 — attention: frame times, the event mask, the attention mass inside the event, chance.

Introduced with exercise 4 (``book/exercises/ex04_attention``). :func:`collect` runs in the
submission's process; :data:`CHECKS` run in the grader's process on the collected data.

The contract the learner implements:

* ``frame_times(n_frames, hop_length, sample_rate)`` → ``(n_frames,)`` float seconds: frame ``t`` of
  a centred STFT is centred on sample ``t * hop_length``;
* ``event_mask(times, onset_s, offset_s)`` → ``(batch, frames)`` bool, ``onset <= t <= offset``;
* ``attention_mass_inside(attention, inside)`` → ``(batch,)``: the share of each row's attention
  inside the event, **normalised by the row's total** (attention maps need not sum to 1), with a
  ``ValueError`` for negative weights;
* ``chance_mass(inside)`` → ``(batch,)``: the share that uniform attention would put inside.
"""

from __future__ import annotations

import torch

from ..base import Check
from ._common import call, gen, tensor_answer

NAME = "ex04_attention"

TIMES = torch.arange(50, dtype=torch.float32) * 0.02  # 50 frames, 20 ms apart
ONSETS = torch.tensor([0.11, 0.33, 0.0, 0.905, 0.47])
OFFSETS = torch.tensor([0.29, 0.51, 0.97, 0.95, 0.47])


def probe_attention() -> tuple[torch.Tensor, torch.Tensor]:
    g = gen(11)
    attention = torch.rand(5, 50, generator=g) * 3.0  # not normalised on purpose
    inside = torch.rand(5, 50, generator=g) < 0.3
    inside[2] = True  # an event covering the whole clip
    return attention, inside


def collect(ns: dict) -> dict:
    out: dict = {}
    out["frame_times.a"] = call(ns, "frame_times", 5, 160, 16000)
    out["frame_times.b"] = call(ns, "frame_times", 101, 512, 22050)
    out["event_mask"] = call(ns, "event_mask", TIMES.clone(), ONSETS.clone(), OFFSETS.clone())
    attention, inside = probe_attention()
    out["mass.raw"] = call(ns, "attention_mass_inside", attention.clone(), inside.clone())
    out["mass.normalised"] = call(ns, "attention_mass_inside", attention / attention.sum(-1, keepdim=True), inside.clone())
    out["mass.uniform"] = call(ns, "attention_mass_inside", torch.ones(5, 50), inside.clone())
    negative = attention.clone()
    negative[0, 0] = -1.0
    out["mass.negative"] = call(ns, "attention_mass_inside", negative, inside.clone())
    out["chance"] = call(ns, "chance_mass", inside.clone())
    return out


# ---- grader side -------------------------------------------------------------------------------
def _frame_times(data):
    for key, (n, hop, sr) in (("frame_times.a", (5, 160, 16000)), ("frame_times.b", (101, 512, 22050))):
        value, msg = tensor_answer(data, key, shape=(n,), floating=True)
        if value is None:
            return False, msg
        expected = torch.arange(n, dtype=torch.float64) * hop / sr
        if not torch.allclose(value.double(), expected, atol=1e-6):
            off = float((value.double() - expected).abs().max())
            hint = ""
            if torch.allclose(value.double(), expected + hop / sr / 2, atol=1e-6):
                hint = " (you added half a hop: with center=True frame t is centred on sample t * hop_length)"
            return False, f"{key}: wrong times, off by up to {off:.4g} s{hint}"
    return True, "frame t is at t * hop_length / sample_rate seconds"


def _event_mask(data):
    value, msg = tensor_answer(data, "event_mask", shape=(5, 50), dtype=torch.bool)
    if value is None:
        return False, msg
    expected = (TIMES[None, :] >= ONSETS[:, None]) & (TIMES[None, :] <= OFFSETS[:, None])
    if not torch.equal(value, expected):
        rows = [i for i in range(5) if not torch.equal(value[i], expected[i])]
        return False, f"wrong frames inside the event for examples {rows} (inside means onset <= t <= offset)"
    return True, "frames inside each event, per example"


def _expected_mass():
    attention, inside = probe_attention()
    return (attention * inside).sum(-1) / attention.sum(-1), inside


def _mass(data):
    value, msg = tensor_answer(data, "mass.raw", shape=(5,), floating=True)
    if value is None:
        return False, msg
    expected, _ = _expected_mass()
    if not torch.allclose(value.float(), expected, atol=1e-5):
        attention, inside = probe_attention()
        if torch.allclose(value.float(), (attention * inside).sum(-1), atol=1e-4):
            return False, "the mass is not normalised: divide by each row's total attention"
        return False, "wrong attention mass for unnormalised attention"
    return True, "mass inside / total mass, per example"


def _mass_scale(data):
    raw, msg1 = tensor_answer(data, "mass.raw", shape=(5,), floating=True)
    norm, msg2 = tensor_answer(data, "mass.normalised", shape=(5,), floating=True)
    uniform, msg3 = tensor_answer(data, "mass.uniform", shape=(5,), floating=True)
    if raw is None or norm is None or uniform is None:
        return False, msg1 or msg2 or msg3
    if not torch.allclose(raw.float(), norm.float(), atol=1e-5):
        return False, "scaling the attention changed the mass: normalise by the total"
    _, inside = _expected_mass()
    if not torch.allclose(uniform.float(), inside.float().mean(-1), atol=1e-5):
        return False, "uniform attention must give the fraction of frames inside the event"
    if float(uniform[2]) != 1.0 and abs(float(uniform[2]) - 1.0) > 1e-6:
        return False, "an event covering the whole clip must hold all of the attention"
    return True, "independent of scale; uniform attention gives the event's share of the frames"


def _mass_negative(data):
    value = data.get("mass.negative")
    if isinstance(value, dict) and str(value.get("__error__", "")).startswith("ValueError"):
        return True, "negative weights are refused with a ValueError"
    return False, "negative attention weights must raise a ValueError (a mass is not defined for them)"


def _chance(data):
    value, msg = tensor_answer(data, "chance", shape=(5,), floating=True)
    if value is None:
        return False, msg
    _, inside = _expected_mass()
    if not torch.allclose(value.float(), inside.float().mean(-1), atol=1e-6):
        return False, "chance mass is the fraction of frames inside the event"
    return True, "the share uniform attention would put inside"


CHECKS: tuple[Check, ...] = (
    Check("frame_times: centres in seconds", 2, _frame_times),
    Check("event_mask: frames inside", 2, _event_mask),
    Check("attention_mass_inside: value", 3, _mass),
    Check("attention_mass_inside: normalised", 2, _mass_scale),
    Check("attention_mass_inside: negative weights", 1, _mass_negative),
    Check("chance_mass", 2, _chance),
)
