"""aiSFX's weights: found in the installed wheel, read with ``torch.load(weights_only=True)``, loaded into the network."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import torch
from torch import nn

from .aisfx_network import _PREFIX, AisfxNetwork
from .checkpoints import PretrainedWeightsError, read_weights_file

#: What to run when the package is missing.
AISFX_INSTALL_HINT = (
    "Fix: run `make install`, or by hand `.venv/bin/python -m pip install --no-deps --require-hashes -r "
    "requirements-aisfx.txt` (the wheel holds the weights; --no-deps because its metadata pins numpy 1.23 "
    "and librosa 0.9.2, which this course's torch cannot use)."
)


def aisfx_checkpoint_path() -> Path:
    """Where the installed ``aisfx`` wheel keeps its weights (found without importing the package).

    Raises:
        ImportError: ``aisfx`` is not installed (the message says what to run).
        FileNotFoundError: the package is installed but its ``models/checkpoint.pth`` is missing.
    """
    spec = importlib.util.find_spec("aisfx")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"The pretrained sound-event encoder needs the package aisfx==0.1.2, which is not installed. {AISFX_INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "checkpoint.pth"
    if not path.is_file():
        raise FileNotFoundError(
            f"aisfx is installed but its weights file {path} is missing. Fix: reinstall it: `.venv/bin/python -m pip "
            "install --force-reinstall --no-deps --require-hashes -r requirements-aisfx.txt`."
        )
    return path


def _numpy_globals() -> list:
    import numpy as np  # noqa: PLC0415

    try:
        from numpy._core.multiarray import scalar  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import scalar
    # By the names the file uses (it was written with NumPy 1.x), plus the dtype class that
    # NumPy 2 rebuilds for np.dtype("int64"): the only objects besides tensors in the file.
    return [(scalar, "numpy.core.multiarray.scalar"), np.dtype, type(np.dtype(np.int64))]


def load_aisfx_checkpoint(path: str | os.PathLike | None = None) -> tuple[dict[str, torch.Tensor], dict]:
    """Read the wheel's ``checkpoint.pth``: ``(weights, datasets)``.

    ``weights`` is the package's ``CrossNet`` state dict (the embedding network's keys start with
    ``embedding_net.``); ``datasets`` maps each training library to ``(index, number of classes)``.
    Read with ``torch.load(weights_only=True)``, allowing only NumPy's scalar and dtype globals.

    Raises:
        ImportError, FileNotFoundError: see :func:`aisfx_checkpoint_path`.
        PretrainedWeightsError: the file cannot be read, or does not hold what is expected.
    """
    path = Path(path) if path is not None else aisfx_checkpoint_path()
    if not path.is_file():
        raise FileNotFoundError(f"The aiSFX weights file {path} does not exist. {AISFX_INSTALL_HINT}")
    loaded = read_weights_file(
        path,
        lambda size, detail: (
            f"The aiSFX weights file {path} ({size} bytes) cannot be read with weights_only=True ({detail}). "
            "The file was left in place. Fix: reinstall the wheel (`pip install --force-reinstall --no-deps "
            "--require-hashes -r requirements-aisfx.txt`)."
        ),
        allowed_globals=_numpy_globals(),
    )
    if not (isinstance(loaded, (tuple, list)) and len(loaded) == 2 and isinstance(loaded[0], dict)):
        raise PretrainedWeightsError(
            f"{path} does not hold the aiSFX checkpoint (expected (state_dict, datasets), found {type(loaded).__name__}).",
            path,
        )
    weights, datasets = loaded
    if not any(k.startswith(_PREFIX) for k in weights):
        raise PretrainedWeightsError(f"{path} holds no '{_PREFIX}*' weights: it is not the aiSFX checkpoint.", path)
    return weights, dict(datasets)


def load_aisfx_network(
    *, pretrained: bool = True, device: str | torch.device = "cpu", checkpoint: str | os.PathLike | None = None
) -> AisfxNetwork:
    """:class:`AisfxNetwork` with the wheel's weights, in eval mode, on ``device``.

    Args:
        pretrained: ``False`` keeps PyTorch's random initialisation (seed first): the control.
        device: where to put it.
        checkpoint: another copy of ``checkpoint.pth`` (default: the installed wheel's).
    """
    network = AisfxNetwork()
    if pretrained:
        weights, _ = load_aisfx_checkpoint(checkpoint)
        state = AisfxNetwork.state_dict_from_checkpoint(weights)
        try:
            network.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise PretrainedWeightsError(
                f"the aiSFX checkpoint does not fit the published network ({str(err).splitlines()[0]}).", None
            ) from err
    return network.to(device).eval()


def weights_digest(module: nn.Module) -> str:
    """A short hash (16 hex digits) of a module's weights and buffers: cache keys use it to tell
    pretrained, random and fine-tuned weights apart."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
