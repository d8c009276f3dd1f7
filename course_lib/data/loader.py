"""Datasets over precomputed features and the loader that batches them.

Step 3 of the data pipeline: introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``, which
trains on it), explained in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``).
:class:`FeatureDataset` serves cached tensors a whole batch per call (one
indexing operation and one :class:`course_lib.augment.SpecAugment` call per batch, not per clip);
:func:`make_loader` wraps it in a seeded :class:`~torch.utils.data.DataLoader` with settings right
for a small CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from .._checks import check_int

__all__ = ["FeatureDataset", "FeatureBatch", "collate", "make_loader"]


class FeatureDataset(Dataset):
    """A dataset over precomputed features: ``dataset[i]`` is ``(transform(features[i]), labels[i])``.

    Args:
        features: ``(N, channels, n_bins, frames)`` tensor (from :func:`compute_features`).
        labels: ``(N,)`` integer class indices.
        transform: applied to the features when they are read, e.g. a
            :class:`course_lib.augment.SpecAugment` for the training set (leave it ``None`` for the
            validation and test sets). A module in ``eval()`` mode does nothing.

    Batches: a :class:`~torch.utils.data.DataLoader` asks for a whole batch of indices at once
    (:meth:`__getitems__`); the dataset answers with one indexing operation, and a transform whose
    ``accepts_batch`` attribute is true (:class:`~course_lib.augment.SpecAugment`) is called once on
    the ``(batch, channels, n_bins, frames)`` tensor — masks are still drawn per example. Any other
    callable is applied item by item to ``(channels, n_bins, frames)``, so a function written for
    one example keeps working. Calling the dataset per item in Python, as the seed's pipeline does,
    costs more than the indexing itself (``benchmarks/pipeline.py`` measures it).

    The features are shared, not copied: indexing a subset costs no memory.
    """

    def __init__(
        self,
        features: torch.Tensor,
        labels: torch.Tensor | Sequence[int],
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        if not isinstance(features, torch.Tensor) or features.ndim != 4:
            raise ValueError(
                "FeatureDataset expects features shaped (N, channels, n_bins, frames), got "
                f"{tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__}."
            )
        labels = torch.as_tensor(labels)
        if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
            raise ValueError(f"labels must be (N,) with N = {features.shape[0]} features, got shape {tuple(labels.shape)}.")
        if labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}.")
        if labels.numel() and int(labels.min()) < 0:
            raise ValueError(f"labels must be >= 0, got a minimum of {int(labels.min())}.")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable (e.g. SpecAugment(...)), got {type(transform).__name__}.")
        self.features = features
        self.labels = labels.long()
        self.transform = transform

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.features[index]
        if self.transform is not None:
            x = self.transform(x)
        return x, self.labels[index]

    def __getitems__(self, indices: Sequence[int]) -> FeatureBatch:
        """Items ``indices`` in one call: what a DataLoader uses to fetch a batch.

        Returns a :class:`FeatureBatch`: a list of ``(features, label)`` pairs, like
        ``[dataset[i] for i in indices]``, so any ``collate_fn`` works, which also holds the batch
        tensors themselves, so that :func:`collate` (the collate function of :func:`make_loader`)
        passes them on without stacking the pairs again.
        """
        idx = torch.as_tensor(indices, dtype=torch.long)
        x = self.features[idx]
        if self.transform is not None:
            if getattr(self.transform, "accepts_batch", False):
                x = self.transform(x)
            else:
                x = torch.stack([self.transform(item) for item in x])
        return FeatureBatch(x, self.labels[idx])

    def subset(self, indices: Sequence[int] | torch.Tensor, transform: Callable | None = None) -> FeatureDataset:
        """A new dataset over ``indices`` (e.g. one split), with its own ``transform``."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        return FeatureDataset(self.features[idx], self.labels[idx], transform)


class FeatureBatch(list):
    """A batch fetched by :meth:`FeatureDataset.__getitems__`: the ``(features, label)`` pairs, and the
    batch tensors ``inputs`` ``(batch, channels, n_bins, frames)`` and ``labels`` ``(batch,)`` they view."""

    def __init__(self, inputs: torch.Tensor, labels: torch.Tensor) -> None:
        super().__init__(zip(inputs.unbind(0), labels.unbind(0)))
        self.inputs = inputs
        self.labels = labels


def collate(batch: list) -> object:
    """The collate function of :func:`make_loader`: a :class:`FeatureBatch` as its ready tensors
    ``(inputs, labels)``; anything else through PyTorch's ``default_collate``."""
    if isinstance(batch, FeatureBatch):
        return batch.inputs, batch.labels
    return default_collate(batch)


def make_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    sampler: Sampler | None = None,
    num_workers: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A :class:`~torch.utils.data.DataLoader` with settings right for a small CPU (and a GPU when present).

    * ``num_workers=0``: the data are tensors in memory, so worker processes would only add start-up
      time and copies (on 2 cores they are slower). Pass more workers for a dataset that decodes files.
    * ``pin_memory`` only when CUDA is available (it does nothing useful without a GPU and warns).
    * A seeded ``torch.Generator`` for the shuffling, so the order of batches is the same on a re-run.

    Args:
        dataset: any map-style dataset.
        batch_size: examples per batch.
        shuffle: reshuffle every epoch (training); ``False`` for evaluation. Must be ``False`` when a
            ``sampler`` is given (the sampler decides the order).
        seed: seed of the loader's generator.
        sampler: e.g. a :class:`~torch.utils.data.WeightedRandomSampler` for imbalanced classes.
        num_workers: worker processes.
        drop_last: drop a last, smaller batch (useful with BatchNorm and a batch of 1).
    """
    check_int(batch_size, "batch_size", minimum=1)
    if sampler is not None and shuffle:
        raise ValueError("make_loader: pass shuffle=False with a sampler; the sampler already decides the order.")
    if len(dataset) == 0:  # type: ignore[arg-type]
        raise ValueError("make_loader: the dataset is empty; check the split or the data folder.")
    generator = torch.Generator().manual_seed(int(seed))
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle if sampler is None else False,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=torch.cuda.is_available(),
        drop_last=drop_last,
        generator=generator,
        collate_fn=collate,
        persistent_workers=num_workers > 0,
    )
