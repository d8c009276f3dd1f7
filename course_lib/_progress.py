"""A tqdm progress bar that can be switched off: the one helper every batched loop shares.

Kept at the bottom of the package (it imports only tqdm, lazily) so that :mod:`course_lib.features`
and :mod:`course_lib.data` can both use it without importing each other.
"""

from __future__ import annotations

__all__ = ["progress"]


def progress(iterable, *, total: int, desc: str, enabled: bool):
    """``iterable`` wrapped in a tqdm bar of ``total`` steps named ``desc``, or unchanged when not ``enabled``."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)
