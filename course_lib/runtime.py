"""Where and how code runs: seeding, the device, worker threads, and files written atomically.

Introduced in chapter 1; every chapter starts with ``seed_everything(...)``. This module sits at the
bottom of ``course_lib`` (it imports only :mod:`course_lib._checks`), so every layer may use it.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import check_int

__all__ = ["seed_everything", "select_device", "module_device", "default_workers", "atomic_write"]


def seed_everything(seed: int = 0, *, deterministic: bool = True) -> torch.Generator:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and CUDA) with ``seed``.

    Args:
        seed: a non-negative integer.
        deterministic: also ask cuDNN for deterministic kernels (a little slower on GPU; no effect
            on CPU).

    Returns:
        A ``torch.Generator`` seeded with ``seed``, for code that takes an explicit generator
        (data splits, random crops) so it does not depend on the global state.

    A re-run with the same seed gives the same numbers on the same machine and library versions;
    different CPUs or a GPU may differ in the last digits.
    """
    check_int(seed, "seed", minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch.Generator().manual_seed(seed)


def select_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cuda"`` without a GPU is an error (not a silent CPU run)."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"device={device!r} was requested but PyTorch sees no CUDA GPU "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}). Fix: use device='cpu' or 'auto'."
        )
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}.")
    return torch.device(device)


def module_device(module: nn.Module) -> torch.device:
    """Where a module's parameters / buffers live (the CPU for a module without any)."""
    tensors = list(module.parameters()) + list(module.buffers())
    return tensors[0].device if tensors else torch.device("cpu")


def default_workers() -> int:
    """Threads used to decode and compute features: the CPU cores, at most 4 (``os.cpu_count()``)."""
    return max(1, min(4, os.cpu_count() or 1))


def atomic_write(path: str | os.PathLike, writer: Callable[[Path], Any]) -> Path:
    """Write a file so that a reader sees the old file or the whole new one, never half of it.

    ``writer(tmp)`` writes the content to ``tmp``, a name beside ``path`` that is unique to this
    process and thread (``<name>.tmp<pid>-<thread>``); ``tmp`` is then renamed to ``path``
    (``os.replace``, atomic on one file system). The parent folder is created when missing. When
    ``writer`` fails, ``tmp`` is removed and the error propagates; ``path`` is left as it was.
    Several threads or processes may write the same ``path`` at once: the last rename wins.

    Example::

        atomic_write(path, lambda tmp: torch.save(payload, tmp))

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        writer(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
