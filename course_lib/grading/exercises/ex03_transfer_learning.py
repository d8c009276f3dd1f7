"""Exercise 3 — transfer learning: freezing, counting and optimising the right parameters.

Introduced with exercise 3 (``book/exercises/ex03_transfer_learning``). :func:`collect` runs in
the submission's process; :data:`CHECKS` run in the grader's process on the collected data.

The contract the learner implements, for any model with an ``encoder`` (whose ``encoder.blocks`` lists
its blocks, bottom to top) and a ``head`` sub-module:

* ``set_trainable(model, mode, n_top=1)``: ``"frozen"`` — no encoder parameter learns, every head
  parameter does; ``"top"`` — the parameters of the last ``n_top`` blocks and of the head learn, every
  other encoder parameter is frozen (including ones unfrozen before); ``"full"`` — every parameter
  learns (including ones frozen before); any other mode, or ``n_top`` outside ``1 … len(blocks)``,
  raises ``ValueError``. Returns the model.
* ``count_trainable(model)`` → ``int``: the number of scalar weights that learn.
* ``make_optimizer(model, lr_head, lr_encoder, weight_decay)`` → ``torch.optim.AdamW`` with a group
  of the head's trainable parameters at ``lr_head`` and, when any encoder parameter learns, a group
  of those at ``lr_encoder``; no frozen parameter in any group.
"""

from __future__ import annotations

import torch
from torch import nn

from ..base import Check
from ._common import call, error_of

NAME = "ex03_transfer_learning"


class ProbeEncoder(nn.Module):
    """Three blocks, plus an input normalisation that belongs to no block (the grader's probe)."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(1)
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Conv1d(1, 4, 5), nn.BatchNorm1d(4), nn.ReLU()),
            nn.Sequential(nn.Conv1d(4, 5, 3), nn.ReLU()),
            nn.Sequential(nn.Conv1d(5, 6, 3), nn.BatchNorm1d(6), nn.ReLU()),
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        for block in self.blocks:
            x = block(x)
        return x.mean(-1)


class ProbeModel(nn.Module):
    """A small stand-in for an encoder + head classifier (the grader's probe)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = ProbeEncoder()
        self.head = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def _flags(model: nn.Module) -> dict[str, bool]:
    return {name: bool(p.requires_grad) for name, p in model.named_parameters()}


def _groups(model: nn.Module, optimizer) -> object:
    if optimizer is None:
        return {"__error__": "make_optimizer returned None (is the function finished?)"}
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"__error__": f"make_optimizer returned a {type(optimizer).__module__}.{type(optimizer).__qualname__}, "
                             "not a torch.optim.Optimizer"}
    names = {id(p): n for n, p in model.named_parameters()}
    return {
        "type": type(optimizer).__name__,
        "groups": [
            {"lr": float(g["lr"]), "weight_decay": float(g.get("weight_decay", 0.0)),
             "params": [names.get(id(p), "<not a parameter of the model>") for p in g["params"]]}
            for g in optimizer.param_groups
        ],
    }


def _optimizer_answer(make_optimizer, model: nn.Module) -> object:
    """What the learner's ``make_optimizer(model, 1e-3, 1e-5, 0.01)`` builds, as plain data (or the error)."""
    try:
        return _groups(model, make_optimizer(model, 1e-3, 1e-5, 0.01)) if callable(make_optimizer) else {"__error__": "make_optimizer is not defined"}
    except Exception as err:
        return {"__error__": f"{type(err).__name__}: {str(err)[:200]}"}


def _stage(out: dict, ns: dict, key: str, model: nn.Module, *mode, returned: str = "result") -> None:
    """``set_trainable(model, *mode)``, then the flags, the count and the optimizer it leaves, under ``key.*``."""
    out[f"{key}.{returned}"] = call(ns, "set_trainable", model, *mode) is not None
    out[f"{key}.flags"] = _flags(model)
    out[f"{key}.count"] = call(ns, "count_trainable", model)
    out[f"{key}.optimizer"] = _optimizer_answer(ns.get("make_optimizer"), model)


def collect(ns: dict) -> dict:
    out: dict = {}
    torch.manual_seed(0)
    model = ProbeModel()
    _stage(out, ns, "frozen", model, "frozen", returned="return")  # the model itself comes back
    for param in model.parameters():  # everything frozen: "full" has to unfreeze it all by itself
        param.requires_grad_(False)
    _stage(out, ns, "full", model, "full")
    # "top" right after "full": the lower blocks (and the input norm) must be frozen again
    _stage(out, ns, "top1", model, "top", 1)
    fresh = ProbeModel()
    call(ns, "set_trainable", fresh, "frozen")
    out["top2.result"] = call(ns, "set_trainable", fresh, "top", 2) is not None
    out["top2.flags"] = _flags(fresh)
    out["bad_mode"] = call(ns, "set_trainable", ProbeModel(), "fine-tune-everything-please")
    out["bad_n_top.zero"] = call(ns, "set_trainable", ProbeModel(), "top", 0)
    out["bad_n_top.too_many"] = call(ns, "set_trainable", ProbeModel(), "top", 4)
    return out


# ---- grader side -------------------------------------------------------------------------------
def _expected() -> tuple[list[str], list[str], dict[str, int]]:
    model = ProbeModel()
    names = [n for n, _ in model.named_parameters()]
    sizes = {n: p.numel() for n, p in model.named_parameters()}
    return [n for n in names if n.startswith("encoder.")], [n for n in names if n.startswith("head.")], sizes


def _top_blocks(n_top: int) -> list[str]:
    """Encoder parameter names in the last ``n_top`` of the probe's three blocks."""
    enc, _, _ = _expected()
    return [n for n in enc if n.startswith("encoder.blocks.") and int(n.split(".")[2]) >= 3 - n_top]


def _frozen(data):
    enc, head, _ = _expected()
    flags = data.get("frozen.flags")
    if not isinstance(flags, dict) or set(flags) != set(enc + head):
        return False, "set_trainable changed the model's parameters (or was not run)"
    still = [n for n in enc if flags[n]]
    if still:
        return False, f"'frozen' leaves encoder parameters trainable, e.g. {still[0]}"
    off = [n for n in head if not flags[n]]
    if off:
        return False, f"'frozen' must keep the head trainable; {off[0]} is frozen"
    return True, "encoder frozen, head trainable"


def _full(data):
    enc, head, _ = _expected()
    flags = data.get("full.flags")
    if not isinstance(flags, dict) or set(flags) != set(enc + head):
        return False, "set_trainable changed the model's parameters (or was not run)"
    off = [n for n in enc + head if not flags[n]]
    if off:
        return False, f"'full' fine-tuning must unfreeze every parameter, including ones frozen before; {off[0]} is frozen"
    return True, "everything learns after 'full', even after 'frozen'"


def _top(data):
    enc, head, _ = _expected()
    for key, n_top in (("top1.flags", 1), ("top2.flags", 2)):
        flags = data.get(key)
        if not isinstance(flags, dict) or set(flags) != set(enc + head):
            return False, "set_trainable(model, 'top', n_top) changed the model's parameters (or was not run)"
        learn = set(_top_blocks(n_top))
        wrong_on = [n for n in enc if flags[n] and n not in learn]
        if wrong_on:
            return False, (f"'top' with n_top={n_top} leaves {wrong_on[0]} trainable: only the last {n_top} block(s) of "
                           "model.encoder.blocks may learn, even right after 'full' (freeze the rest explicitly)")
        wrong_off = [n for n in sorted(learn) + head if not flags[n]]
        if wrong_off:
            return False, f"'top' with n_top={n_top} must unfreeze the top block(s) and the head; {wrong_off[0]} is frozen"
    return True, "only the top n_top blocks and the head learn, whatever was trainable before"


def _bad_mode(data):
    value = data.get("bad_mode")
    if not (isinstance(value, dict) and str(value.get("__error__", "")).startswith("ValueError")):
        return False, "an unknown mode must raise a ValueError (a typo must not silently train the wrong weights)"
    for key, n_top in (("bad_n_top.zero", 0), ("bad_n_top.too_many", 4)):
        value = data.get(key)
        if not (isinstance(value, dict) and str(value.get("__error__", "")).startswith("ValueError")):
            return False, f"set_trainable(model, 'top', {n_top}) on a 3-block encoder must raise a ValueError"
    return True, "an unknown mode and an impossible n_top are refused"


def _count(data):
    enc, head, sizes = _expected()
    for key, names in (("frozen.count", head), ("full.count", enc + head), ("top1.count", _top_blocks(1) + head)):
        value = data.get(key)
        if type(value) is not int:
            return False, f"count_trainable must return an int, got {type(value).__name__}" + (
                f" ({error_of(value)})" if isinstance(value, dict) else "")
        expected = sum(sizes[n] for n in names)
        if value != expected:
            return False, f"count_trainable: {value} after {key.split('.')[0]!r}, expected {expected} (scalar weights, not tensors)"
    return True, "counts scalar weights with requires_grad"


def _optimizer(data):
    enc, head, _ = _expected()
    for key, trainable_enc in (("frozen.optimizer", []), ("full.optimizer", enc), ("top1.optimizer", _top_blocks(1))):
        value = data.get(key)
        if not isinstance(value, dict) or "groups" not in value:
            return False, f"make_optimizer ({key.split('.')[0]}): {error_of(value) or 'not an optimizer'}"
        if value["type"] != "AdamW":
            return False, f"make_optimizer must return torch.optim.AdamW, got {value['type']}"
        in_groups = [n for g in value["groups"] for n in g["params"]]
        if len(in_groups) != len(set(in_groups)):
            return False, "a parameter appears in two groups"
        frozen = [n for n in in_groups if n in enc and n not in trainable_enc]
        if frozen:
            return False, f"frozen parameters are handed to the optimizer ({frozen[0]}): pass only trainable ones"
        if sorted(in_groups) != sorted(head + trainable_enc):
            return False, f"the optimizer must hold exactly the trainable parameters ({len(head + trainable_enc)}), got {len(in_groups)}"
        for g in value["groups"]:
            names = set(g["params"])
            if names and names <= set(head) and abs(g["lr"] - 1e-3) > 1e-12:
                return False, f"the head's group has lr {g['lr']}, expected lr_head"
            if names and names <= set(enc) and abs(g["lr"] - 1e-5) > 1e-12:
                return False, f"the encoder's group has lr {g['lr']}, expected lr_encoder"
            if names & set(head) and names & set(enc):
                return False, "head and encoder parameters share one group: use one group each, with its own learning rate"
            if abs(g["weight_decay"] - 0.01) > 1e-12:
                return False, f"weight_decay {g['weight_decay']} in a group, expected the argument (0.01)"
    return True, "trainable parameters only, one learning rate per part"


CHECKS: tuple[Check, ...] = (
    Check("set_trainable: frozen", 2, _frozen),
    Check("set_trainable: full fine-tuning unfreezes", 2, _full),
    Check("set_trainable: top blocks only", 2, _top),
    Check("set_trainable: unknown mode", 1, _bad_mode),
    Check("count_trainable", 2, _count),
    Check("make_optimizer: groups", 3, _optimizer),
)
