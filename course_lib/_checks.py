"""Argument checks with one message format: what was expected, what came, and the fix.

Used by every layer of ``course_lib`` (this module imports nothing from it). Every check returns
the checked value (converted where that is safe: an ``int`` for :func:`check_int`, a ``float`` for
the number checks), so a check can stand in an assignment::

    self.n_mels = check_int(n_mels, "n_mels", minimum=16, owner="Recipe")

and fails with, e.g. (the scikit-learn style)::

    ValueError: Recipe.n_mels must be an integer >= 16, got 8. Fix: pass a whole number (int) >= 16.

``owner`` (a class or function name) is written before the argument's name; ``fix`` replaces the
default advice. Integer and number checks raise ``ValueError`` for a value of the wrong type as well
as for one out of range (as the checks they replace did); :func:`check_tensor` raises ``TypeError``
for something that is not a tensor and ``ValueError`` for a wrong shape or non-finite values.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any, TypeVar

import torch

__all__ = [
    "check_int",
    "check_number",
    "check_positive_float",
    "check_fraction",
    "check_choice",
    "check_tensor",
    "format_error",
]

T = TypeVar("T")


def _who(name: str, owner: str | None) -> str:
    return f"{owner}.{name}" if owner else name


def format_error(
    name: str, expected: str, value: Any, fix: str, *, owner: str | None = None, got: str | None = None
) -> str:
    """The one message format: ``"<owner>.<name> must be <expected>, got <value!r>. Fix: <fix>"``.

    ``got`` replaces ``repr(value)`` when the value itself is not worth printing (``"shape (2, 3)"``).
    """
    fix = fix.strip()
    if fix and not fix.endswith((".", "!", "?")):
        fix += "."
    shown = repr(value) if got is None else got
    return f"{_who(name, owner)} must be {expected}, got {shown}." + (f" Fix: {fix}" if fix else "")


def _int_bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"in [{minimum}, {maximum}]"
    if minimum is not None:
        return f">= {minimum}"
    if maximum is not None:
        return f"<= {maximum}"
    return ""


def _int_range(minimum: int | None, maximum: int | None) -> str:
    if maximum is None and minimum == 0:
        return "a non-negative integer (>= 0)"
    if maximum is None and minimum == 1:
        return "a positive integer (>= 1)"
    return f"an integer {_int_bounds(minimum, maximum)}".strip()


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int | None = 0,
    maximum: int | None = None,
    owner: str | None = None,
    unit: str | None = None,
    fix: str | None = None,
    allow_numpy: bool = False,
) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]``; ``True``/``False`` are refused.

    Args:
        value: the argument to check.
        name: its name, as the caller spells it (``"batch_size"``).
        minimum, maximum: the allowed range, both ends included (``None``: unbounded). The default
            ``minimum=0`` asks for a non-negative integer; ``minimum=1`` for a positive one.
        owner: the class or function the argument belongs to (``"TrainConfig"``), or ``None``.
        unit: written after the range (``"Hz"``, ``"frames"``).
        fix: the advice after ``Fix:`` (default: which whole number to pass).
        allow_numpy: also accept NumPy integers (returned as ``int``).

    Raises:
        ValueError: not an integer (a float, a string, a bool...) or out of range.
    """
    integer_types: tuple[type, ...] = (numbers.Integral,) if allow_numpy else (int,)
    ok = not isinstance(value, bool) and isinstance(value, integer_types)
    if ok:
        value = int(value)
        ok = (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        expected = _int_range(minimum, maximum) + (f" {unit}" if unit else "")
        if fix is None:
            fix = f"pass a whole number (int) {_int_bounds(minimum, maximum)}".strip()
            if isinstance(value, float) and value.is_integer():
                fix += f", e.g. {int(value)} instead of {value!r}"
        raise ValueError(format_error(name, expected, value, fix, owner=owner))
    return value


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    include_minimum: bool = True,
    include_maximum: bool = True,
    owner: str | None = None,
    unit: str | None = None,
    expected: str | None = None,
    fix: str | None = None,
) -> float:
    """``value`` as a finite ``float`` in the given range (NaN, infinities and bools are refused).

    Args:
        value, name, owner, unit, fix: as in :func:`check_int`.
        minimum, maximum: the range (``None``: unbounded on that side).
        include_minimum, include_maximum: whether each end belongs to the range.
        expected: the words after "must be" (default: built from the range, e.g.
            ``"a number in [0, 1)"`` or ``"a number > 0"``).

    Raises:
        ValueError: not a real number, not finite, or out of range.
    """
    ok = _is_real(value) and math.isfinite(float(value))
    if ok:
        x = float(value)
        if minimum is not None:
            ok = x >= minimum if include_minimum else x > minimum
        if ok and maximum is not None:
            ok = x <= maximum if include_maximum else x < maximum
    if not ok:
        if expected is None:
            if minimum is not None and maximum is not None:
                left, right = "[" if include_minimum else "(", "]" if include_maximum else ")"
                expected = f"a number in {left}{minimum:g}, {maximum:g}{right}"
            elif minimum is not None:
                expected = f"a number {'>=' if include_minimum else '>'} {minimum:g}"
            elif maximum is not None:
                expected = f"a number {'<=' if include_maximum else '<'} {maximum:g}"
            else:
                expected = "a finite number"
        if unit:
            expected += f" {unit}"
        if fix is None:
            fix = f"pass {expected} (a finite int or float)"
        raise ValueError(format_error(name, expected, value, fix, owner=owner))
    return float(value)


def check_positive_float(
    value: Any, name: str, *, owner: str | None = None, unit: str | None = None, fix: str | None = None
) -> float:
    """``value`` as a finite ``float`` > 0 ("must be a positive number"). See :func:`check_number`."""
    return check_number(
        value, name, minimum=0.0, include_minimum=False, owner=owner, unit=unit,
        expected="a positive number", fix=fix,
    )


def check_fraction(
    value: Any,
    name: str,
    *,
    include_one: bool = False,
    include_zero: bool = True,
    owner: str | None = None,
    fix: str | None = None,
) -> float:
    """``value`` as a ``float`` in ``[0, 1)`` (``include_one`` / ``include_zero`` move the ends).

    The message reads "must be a fraction in [0, 1)" (or ``[0, 1]``, ``(0, 1)``...).
    """
    left, right = "[" if include_zero else "(", "]" if include_one else ")"
    return check_number(
        value, name, minimum=0.0, maximum=1.0, include_minimum=include_zero, include_maximum=include_one,
        owner=owner, expected=f"a fraction in {left}0, 1{right}", fix=fix,
    )


def check_choice(
    value: T, name: str, options: Iterable[T], *, owner: str | None = None, fix: str | None = None
) -> T:
    """``value`` when it is one of ``options`` (compared with ``==``).

    The message lists the options: ``"schedule must be one of 'onecycle', 'cosine', got 'cosin'."``

    Raises:
        ValueError: ``value`` is not among the options.
    """
    options = list(options)
    try:
        ok = any(value == option for option in options)
    except Exception:  # noqa: BLE001 - e.g. a tensor compared with a string
        ok = False
    if not ok:
        listed = ", ".join(repr(option) for option in options)
        expected = f"one of {listed}" if len(options) != 1 else repr(options[0])
        raise ValueError(format_error(name, expected, value, fix or "pick one of the listed values (check the spelling)", owner=owner))
    return value


def check_tensor(
    x: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    dims: str | None = None,
    floating: bool = False,
    finite: bool = False,
    non_empty: bool = False,
    owner: str | None = None,
    fix: str | None = None,
) -> torch.Tensor:
    """``x`` when it is a ``torch.Tensor`` with the given number of dimensions and properties.

    Args:
        x: the argument to check.
        name: its name (``"features"``).
        ndim: the allowed number of dimensions (one int or several), or ``None`` for any.
        dims: the layout in words, shown in the message (``"(batch, 1, n_mels, frames)"``).
        floating: require a floating-point dtype.
        finite: refuse NaN and infinite values.
        non_empty: refuse a tensor with no elements.
        owner, fix: as in :func:`check_int`.

    Raises:
        TypeError: ``x`` is not a tensor, or not floating point when ``floating``.
        ValueError: wrong number of dimensions, empty, or not finite.
    """
    layout = f" {dims}" if dims else ""
    if not isinstance(x, torch.Tensor):
        raise TypeError(format_error(
            name, f"a torch.Tensor{layout}", x, fix or "convert it with torch.as_tensor(...)",
            owner=owner, got=f"a {type(x).__name__}",
        ))
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            wanted = " or ".join(f"{n}-D" for n in allowed)
            raise ValueError(format_error(
                name, f"a {wanted} tensor{layout}", x,
                fix or "add or remove axes (unsqueeze / squeeze / reshape) to match the layout",
                owner=owner, got=f"shape {tuple(x.shape)}",
            ))
    if floating and not torch.is_floating_point(x):
        raise TypeError(format_error(
            name, "a floating-point tensor", x, fix or "convert it with .float()", owner=owner, got=f"dtype {x.dtype}",
        ))
    if non_empty and x.numel() == 0:
        raise ValueError(format_error(
            name, "a non-empty tensor", x, fix or "check the data it was built from", owner=owner,
            got=f"shape {tuple(x.shape)}",
        ))
    if finite and x.is_floating_point() and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(format_error(
            name, "finite (no NaN or infinite values)", x,
            fix or "find where they come from (e.g. the log of 0, a division by a zero std)",
            owner=owner, got=f"{bad} NaN or infinite value(s)",
        ))
    return x
