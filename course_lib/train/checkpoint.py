"""Checkpoints: a model's weights plus plain metadata, written atomically and read with ``weights_only=True``.

Part of :mod:`course_lib.train`; introduced in chapter 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..runtime import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **metadata: Any) -> Path:
    """Save ``model.state_dict()`` plus plain metadata (epoch, metrics, class names...) to ``path``.

    Only tensors and plain Python values are stored, so :func:`load_checkpoint` can read the file
    with ``torch.load(..., weights_only=True)`` (which refuses to run code hidden in a pickle). When
    the model was made by :func:`course_lib.models.build_model`, its name and arguments are stored
    too, so the model can be rebuilt from the file alone. The file is written to a temporary name
    and then renamed, so an interrupted save never leaves a half-written checkpoint.

    Introduced in chapter 2.
    """
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {"state_dict": state, "model_class": type(model).__name__, "metadata": metadata}
    spec = getattr(model, "build_spec", None)
    if spec is not None:
        payload["build_spec"] = spec
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module | None = None, *, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (with ``weights_only=True``).

    Args:
        path: the checkpoint file.
        model: when given, its weights are replaced by the checkpoint's (``strict``: every tensor must match).
        map_location: where to put the tensors.

    Returns:
        The checkpoint dict: ``state_dict``, ``model_class``, ``metadata`` and, for models made by
        ``build_model``, ``build_spec`` (``course_lib.models.build_model(**spec)`` rebuilds the model).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file. Fix: check the path, or train first (fit(..., checkpoint_path=...)).")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means the same thing to the user
        raise ValueError(
            f"{path}: cannot be read as a course checkpoint ({type(err).__name__}: {err}). "
            "Fix: the file is corrupt or not a checkpoint written by save_checkpoint; retrain or re-copy it."
        ) from None
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise ValueError(f"{path}: not a course checkpoint (no 'state_dict' entry). Fix: save it with course_lib.train.save_checkpoint.")
    if model is not None:
        # A class renamed since the checkpoint was saved lists its old names in ``former_names``.
        if payload.get("model_class") not in (None, type(model).__name__, *getattr(model, "former_names", ())):
            raise ValueError(
                f"{path}: holds a {payload['model_class']} but the model given is a {type(model).__name__}. "
                "Fix: build the same model class (course_lib.models.build_model(**checkpoint['build_spec']))."
            )
        try:
            model.load_state_dict(payload["state_dict"])
        except RuntimeError as err:
            raise ValueError(
                f"{path}: its weights do not fit this model ({err}). Fix: build the model with the same "
                f"arguments as when it was saved: {payload.get('build_spec', 'see the metadata')}."
            ) from None
    return payload
