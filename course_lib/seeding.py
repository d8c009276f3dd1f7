"""Reproducibility: one call that seeds every random number generator the course uses.

Introduced in chapter 1; every chapter starts with ``seed_everything(...)``.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything"]


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
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
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
