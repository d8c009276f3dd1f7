"""Helpers shared by the exercises' collectors (child side) and hidden checks (grader side).

Introduced with the exercises (``book/exercises/``).

Collectors run inside the submission's process, call the learner's functions on probe inputs and
turn whatever comes back into plain data with :func:`plain`: an exact ``torch.Tensor``, a number, a
string, or lists / dicts of them. Anything else (an object with a rigged ``__eq__``, a tensor
subclass) becomes a description of its type, so the grader sees it for what it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

_SCALARS = (bool, int, float, str, type(None))


def plain(value: Any, depth: int = 0) -> Any:
    """Convert a learner's return value into data that ``torch.load(weights_only=True)`` accepts."""
    if depth > 4:
        return {"__unsupported__": "nested too deeply"}
    kind = type(value)
    if kind is torch.Tensor or kind is torch.nn.Parameter:
        return value.detach().cpu().clone()
    if kind in _SCALARS:
        return value
    if kind.__module__ == "numpy" and hasattr(value, "dtype"):
        try:
            import numpy as np

            if kind is np.ndarray:
                return {"__numpy__": torch.from_numpy(np.array(value, copy=True))}
            return {"__numpy_scalar__": value.item()}
        except Exception:
            return {"__unsupported__": kind.__name__}
    if kind in (list, tuple):
        return [plain(v, depth + 1) for v in list(value)[:1000]]
    if kind is dict:
        return {str(k): plain(v, depth + 1) for k, v in list(value.items())[:1000] if type(k) in (str, int)}
    return {"__unsupported__": f"{kind.__module__}.{kind.__qualname__}"[:200]}


def call(ns: dict, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function ``name`` from the notebook namespace; errors become data."""
    func = ns.get(name)
    if not callable(func):
        return {"__error__": f"{name} is not defined (or not a function) in the notebook"}
    try:
        return plain(func(*args, **kwargs))
    except Exception as err:  # the learner's bug is data for the checks, not a grader crash
        return {"__error__": f"{type(err).__name__}: {str(err)[:300]}"}


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---- grader side -------------------------------------------------------------------------------
def error_of(value: Any) -> str | None:
    """The reason ``value`` is not a usable answer (an error, a wrong type), or ``None``."""
    if isinstance(value, dict):
        if "__error__" in value:
            return "raised " + str(value["__error__"])
        if "__unsupported__" in value:
            return f"returned an object of type {value['__unsupported__']}, not a torch.Tensor"
        if "__numpy__" in value or "__numpy_scalar__" in value:
            return "returned a NumPy value; return a torch.Tensor"
        return "returned a dict"
    if value is None:
        return "returned None (is the function finished?)"
    return None


def tensor_answer(data: dict, key: str, *, shape: tuple[int, ...] | None = None, dtype: torch.dtype | None = None,
                  floating: bool | None = None) -> tuple[torch.Tensor | None, str]:
    """Fetch ``data[key]`` and check that it is exactly a ``torch.Tensor`` of the right shape / dtype."""
    if key not in data:
        return None, f"no answer collected for {key}"
    value = data[key]
    problem = error_of(value)
    if problem:
        return None, f"{key}: {problem}"
    if type(value) is not torch.Tensor:
        return None, f"{key}: expected a torch.Tensor, got {type(value).__name__}"
    if shape is not None and tuple(value.shape) != tuple(shape):
        return None, f"{key}: expected shape {tuple(shape)}, got {tuple(value.shape)}"
    if dtype is not None and value.dtype != dtype:
        return None, f"{key}: expected dtype {dtype}, got {value.dtype}"
    if floating is True and not torch.is_floating_point(value):
        return None, f"{key}: expected a floating-point tensor, got {value.dtype}"
    if torch.is_floating_point(value) and not torch.isfinite(value).all():
        return None, f"{key}: contains NaN or infinite values"
    return value, ""


def all_of(*checks: Callable[[], tuple[bool, str]]) -> tuple[bool, str]:
    """Run sub-checks in order; the first failure's message is returned."""
    for check in checks:
        ok, msg = check()
        if not ok:
            return False, msg
    return True, "ok"
