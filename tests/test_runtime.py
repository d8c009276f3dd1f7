"""course_lib.runtime: seeding, device choice, worker count and atomic writes."""

import os
import random
import threading

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import runtime


def test_seed_everything_repeats_every_generator():
    draws = []
    for _ in range(2):
        generator = runtime.seed_everything(7)
        draws.append((random.random(), float(np.random.rand()), float(torch.rand(1)), float(torch.rand(1, generator=generator))))
    assert draws[0] == draws[1]
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        runtime.seed_everything(-1)


def test_select_device_and_module_device():
    assert runtime.select_device("cpu") == torch.device("cpu")
    assert runtime.select_device(torch.device("cpu")) == torch.device("cpu")
    assert runtime.select_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="'auto', 'cpu' or 'cuda"):
        runtime.select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            runtime.select_device("cuda")
    assert runtime.module_device(nn.Linear(2, 2)) == torch.device("cpu")
    assert runtime.module_device(nn.ReLU()) == torch.device("cpu")
    assert 1 <= runtime.default_workers() <= 4


def test_atomic_write_replaces_whole_file_and_cleans_up(tmp_path):
    target = tmp_path / "sub" / "data.bin"
    assert runtime.atomic_write(target, lambda tmp: tmp.write_bytes(b"one")) == target
    assert target.read_bytes() == b"one"

    def broken(tmp):
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        runtime.atomic_write(target, broken)
    assert target.read_bytes() == b"one"
    assert sorted(p.name for p in target.parent.iterdir()) == ["data.bin"]


def test_atomic_write_from_many_threads(tmp_path):
    target = tmp_path / "shared.txt"
    errors = []

    def write(i):
        try:
            runtime.atomic_write(target, lambda tmp: tmp.write_text(str(i) * 1000))
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    text = target.read_text()
    assert len(text) == 1000 and len(set(text)) == 1
    assert os.listdir(tmp_path) == ["shared.txt"]
