"""course_lib._checks: one message format (expected, got, fix) for every argument check."""

import math

import numpy as np
import pytest
import torch

from course_lib._checks import (
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_positive_float,
    check_tensor,
    format_error,
)


def test_format_error_names_owner_expected_value_and_fix():
    message = format_error("n_mels", "an integer >= 16", 8, "pass 64", owner="Recipe")
    assert message == "Recipe.n_mels must be an integer >= 16, got 8. Fix: pass 64."


@pytest.mark.parametrize("value", [0, 1, 7, 2**40])
def test_check_int_returns_valid_ints(value):
    result = check_int(value, "n", minimum=0)
    assert result == value and type(result) is int


@pytest.mark.parametrize(
    "value, minimum, maximum, words",
    [
        (-1, 0, None, "n must be a non-negative integer (>= 0), got -1."),
        (0, 1, None, "n must be a positive integer (>= 1), got 0."),
        (8, 16, None, "n must be an integer >= 16, got 8."),
        (5, 1, 4, "n must be an integer in [1, 4], got 5."),
        (True, 0, None, "got True."),
        (2.0, 1, None, "got 2.0. Fix: pass a whole number (int) >= 1, e.g. 2 instead of 2.0."),
        ("3", 1, None, "got '3'."),
        (None, 1, None, "got None."),
    ],
)
def test_check_int_refuses_with_one_format(value, minimum, maximum, words):
    with pytest.raises(ValueError) as info:
        check_int(value, "n", minimum=minimum, maximum=maximum)
    message = str(info.value)
    assert words in message and "Fix: " in message and message.endswith(".")


def test_check_int_owner_unit_fix_and_numpy():
    with pytest.raises(ValueError, match=r"^Recipe\.sample_rate must be an integer >= 4000 Hz, got 100\. Fix: use 16000\.$"):
        check_int(100, "sample_rate", minimum=4000, owner="Recipe", unit="Hz", fix="use 16000")
    with pytest.raises(ValueError, match="got np.int64"):
        check_int(np.int64(3), "n")
    assert type(check_int(np.int64(3), "n", allow_numpy=True)) is int
    assert check_int(-5, "offset", minimum=None) == -5


def test_check_number_range_and_finiteness():
    assert check_number(3, "x", minimum=0) == 3.0
    assert check_number(0.0, "x", minimum=0) == 0.0
    with pytest.raises(ValueError, match=r"x must be a number > 0, got 0\.0\."):
        check_number(0.0, "x", minimum=0, include_minimum=False)
    with pytest.raises(ValueError, match=r"x must be a number in \[0, 1\), got 1\."):
        check_number(1, "x", minimum=0, maximum=1, include_maximum=False)
    for bad in (math.nan, math.inf, True, "1", None):
        with pytest.raises(ValueError, match="x must be"):
            check_number(bad, "x")


def test_check_positive_float_and_fraction():
    assert check_positive_float(1e-3, "lr") == 1e-3
    with pytest.raises(ValueError, match=r"TrainConfig\.lr must be a positive number, got -1"):
        check_positive_float(-1, "lr", owner="TrainConfig")
    assert check_fraction(0.0, "p") == 0.0
    with pytest.raises(ValueError, match=r"p must be a fraction in \[0, 1\), got 1\.0"):
        check_fraction(1.0, "p")
    assert check_fraction(1.0, "p", include_one=True) == 1.0
    with pytest.raises(ValueError, match=r"p must be a fraction in \(0, 1\]"):
        check_fraction(0.0, "p", include_one=True, include_zero=False)


def test_check_choice_lists_the_options():
    assert check_choice("sgd", "optimizer", ("adamw", "sgd")) == "sgd"
    with pytest.raises(ValueError, match=r"optimizer must be one of 'adamw', 'sgd', got 'SGD'\. Fix: "):
        check_choice("SGD", "optimizer", ("adamw", "sgd"))
    with pytest.raises(ValueError, match=r"mode must be 'a', got 'b'"):
        check_choice("b", "mode", ["a"])
    with pytest.raises(ValueError, match="one of"):
        check_choice(torch.zeros(2), "mode", ["a", "b"])


def test_check_tensor():
    x = torch.zeros(2, 1, 8, 5)
    assert check_tensor(x, "x", ndim=4, floating=True, finite=True, non_empty=True) is x
    assert check_tensor(x, "x", ndim=(3, 4)) is x
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor \(batch, n\), got a list\. Fix: "):
        check_tensor([1.0], "x", dims="(batch, n)")
    with pytest.raises(ValueError, match=r"must be a 3-D or 4-D tensor \(batch, 1, n_mels, frames\), got shape \(2, 3\)\."):
        check_tensor(torch.zeros(2, 3), "x", ndim=(3, 4), dims="(batch, 1, n_mels, frames)")
    with pytest.raises(TypeError, match=r"got dtype torch\.int64"):
        check_tensor(torch.zeros(2, dtype=torch.long), "x", floating=True)
    with pytest.raises(ValueError, match=r"got 2 NaN or infinite value\(s\)"):
        check_tensor(torch.tensor([0.0, math.nan, math.inf]), "x", finite=True)
    with pytest.raises(ValueError, match="non-empty"):
        check_tensor(torch.zeros(0, 3), "x", non_empty=True)
