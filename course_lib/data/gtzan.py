"""GTZAN (Tzanetakis & Cook, 2002): the filtered split, the dataset, and a synthetic writer of the layout.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``); exercise 1 trains on
:class:`GTZANDataset`. The layout is ``genres/<genre>/<genre>.000NN.wav``, 10 genres
(:data:`GTZAN_GENRES`), 30 s clips at 22.05 kHz. The split is the fault-filtered, artist-disjoint
one shipped in torchaudio (:func:`gtzan_split_ids`). :func:`write_gtzan_layout` writes synthetic
"genres" from rhythm and timbre recipes with the track names of that split and a deliberately
corrupt ``jazz/jazz.00054.wav`` as in the real distribution; tracks of one synthetic *artist*
share a tempo and timbre and lie in one part of the split.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from ..audio_io import save_audio
from .base import AudioFileDataset, DatasetError
from .splits import stratified_split

__all__ = [
    "GTZAN_GENRES",
    "gtzan_split_ids",
    "gtzan_track_ids",
    "GTZANDataset",
    "write_gtzan_layout",
]

#: GTZAN's genres, in label order (the same as ``torchaudio.datasets.gtzan.gtzan_genres``).
GTZAN_GENRES: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock",
)


def gtzan_split_ids() -> dict[str, list[str]]:
    """The fault-filtered, artist-disjoint GTZAN split shipped with torchaudio.

    Returns:
        ``{"train": [...], "valid": [...], "test": [...]}`` of track ids like ``"blues.00029"``
        (443 / 197 / 290 tracks; Kereliuk, Sturm & Larsen, 2015).
    """
    from torchaudio.datasets import gtzan

    return {"train": list(gtzan.filtered_train), "valid": list(gtzan.filtered_valid), "test": list(gtzan.filtered_test)}



def gtzan_track_ids(split: str) -> list[str]:
    """Track ids (``"blues.00029"``) of one part of the fault-filtered GTZAN split shipped in torchaudio.

    Args:
        split: ``"train"`` (443 tracks), ``"valid"`` (197) or ``"test"`` (290).
    """
    lists = gtzan_split_ids()
    if split not in lists:
        raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}.")
    return lists[split]


class GTZANDataset(AudioFileDataset):
    """GTZAN (Tzanetakis & Cook, 2002) or its synthetic layout: ``genres/<genre>/<genre>.000NN.wav``.

    By default the fault-filtered, artist-disjoint split (Kereliuk, Sturm & Larsen, 2015; the lists
    in ``torchaudio.datasets.gtzan``): repeated tracks, distorted tracks and mislabelled tracks
    removed, and no artist in two parts. A random split (``split_mode="random"``) is available
    for comparison only: it puts tracks of one artist on both sides, which inflates the test score,
    and warns so.

    Args:
        root: the folder holding ``genres/`` (or ``genres/`` itself).
        split: ``"train"``, ``"valid"`` or ``"test"``.
        split_mode: ``"filtered"`` (default) or ``"random"`` (all tracks on disk, stratified by genre).
        seed, val_fraction, test_fraction: of the random split.
        sample_rate: Hz (GTZAN: 22050).
        duration_s: seconds (GTZAN tracks are 30 s; a shorter crop is faster to train on).
        verify: see :class:`AudioFileDataset`. The known corrupt ``jazz.00054.wav`` is skipped with a
            warning.
        missing: what to do when the split lists a track that is not on disk: ``"error"`` (default:
            an incomplete download must not pass unnoticed) or ``"skip"`` (one warning with the
            count; for the small synthetic layouts, which hold a few tracks per genre).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        *,
        split_mode: str = "filtered",
        seed: int = 0,
        val_fraction: float = 0.2,
        test_fraction: float = 0.3,
        sample_rate: int = 22050,
        duration_s: float = 30.0,
        crop: str = "center",
        verify: str = "header",
        missing: str = "error",
    ) -> None:
        root = Path(root)
        genres_dir = root if root.name == "genres" and not (root / "genres").is_dir() else root / "genres"
        if not genres_dir.is_dir():
            raise FileNotFoundError(
                f"{genres_dir}: GTZAN folder not found. Fix: point root at the folder holding genres/, download it with "
                "course_lib.data.download.download_gtzan(), or write a synthetic one with course_lib.data.gtzan.write_gtzan_layout()."
            )
        if split not in ("train", "valid", "test"):
            raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}.")
        if split_mode == "filtered":
            ids = gtzan_track_ids(split)
            files = [genres_dir / i.split(".")[0] / f"{i}.wav" for i in ids]
            if missing not in ("error", "skip"):
                raise ValueError(f"missing must be 'error' or 'skip', got {missing!r}.")
            absent = [f for f in files if not f.exists()]
            if absent and missing == "skip":
                warnings.warn(
                    f"GTZANDataset: {len(absent)} of the {len(files)} tracks of the filtered {split!r} split are not in "
                    f"{genres_dir} (first: {absent[0].name}); using the {len(files) - len(absent)} present.",
                    stacklevel=2,
                )
                files = [f for f in files if f.exists()]
        elif split_mode == "random":
            warnings.warn(
                "GTZANDataset(split_mode='random'): a random split puts tracks of the same artist in training and test "
                "sets; the test score is inflated. Use the default fault-filtered split for results you report.",
                stacklevel=2,
            )
            all_files = sorted(genres_dir.glob("*/*.wav"))
            all_labels = [GTZAN_GENRES.index(f.parent.name) for f in all_files if f.parent.name in GTZAN_GENRES]
            all_files = [f for f in all_files if f.parent.name in GTZAN_GENRES]
            if not all_files:
                raise DatasetError(f"{genres_dir}: no .wav files under genres/<genre>/.")
            parts = stratified_split(all_labels, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
            chosen = {"train": parts.train, "valid": parts.val, "test": parts.test}[split].tolist()
            files = [all_files[i] for i in chosen]
        else:
            raise ValueError(f"split_mode must be 'filtered' or 'random', got {split_mode!r}.")
        labels = [GTZAN_GENRES.index(f.parent.name) for f in files]
        super().__init__(files, labels, GTZAN_GENRES, sample_rate=sample_rate, duration_s=duration_s, crop=crop, verify=verify)
        self.root = genres_dir
        self.split = split
        self.split_mode = split_mode

    @property
    def track_ids(self) -> list[str]:
        """Track ids (``"jazz.00012"``) of the kept clips."""
        return [f.stem for f in self.files]


@dataclass(frozen=True)
class _GenreRecipe:
    tempo_bpm: tuple[float, float]
    kick: tuple[int, ...]  # sixteenth-note steps (0..15) of one bar with a kick
    snare: tuple[int, ...]
    hat_every: int  # a hi-hat every n sixteenths (0: none)
    tone_hz: tuple[float, float]  # register of the harmonic instrument
    brightness: float  # harmonic roll-off exponent: small = bright
    distortion: float  # tanh drive of the instrument
    notes_per_bar: int
    noise_db: float  # background noise level relative to the music


_RECIPES: dict[str, _GenreRecipe] = {
    "blues": _GenreRecipe((70, 95), (0, 8), (4, 12), 0, (110, 330), 1.2, 0.5, 4, -30),
    "classical": _GenreRecipe((60, 90), (), (), 0, (220, 880), 2.0, 0.0, 6, -40),
    "country": _GenreRecipe((100, 130), (0, 8), (4, 12), 4, (196, 590), 1.4, 0.2, 8, -32),
    "disco": _GenreRecipe((115, 130), (0, 4, 8, 12), (4, 12), 2, (130, 520), 1.1, 0.3, 8, -30),
    "hiphop": _GenreRecipe((80, 100), (0, 7, 10), (4, 12), 2, (55, 165), 1.6, 0.4, 2, -28),
    "jazz": _GenreRecipe((110, 180), (0,), (6, 14), 3, (147, 587), 1.8, 0.0, 8, -35),
    "metal": _GenreRecipe((140, 200), (0, 2, 4, 6, 8, 10, 12, 14), (4, 12), 2, (82, 247), 0.7, 3.0, 16, -25),
    "pop": _GenreRecipe((100, 125), (0, 8), (4, 12), 2, (262, 1047), 1.3, 0.2, 4, -32),
    "reggae": _GenreRecipe((65, 85), (8,), (8,), 4, (98, 392), 1.5, 0.2, 4, -30),
    "rock": _GenreRecipe((110, 150), (0, 8, 10), (4, 12), 2, (110, 440), 0.9, 1.5, 8, -27),
}


def _artist_of(track_id: str, split: str) -> str:
    # Synthetic artists: blocks of 8 consecutive track numbers of one genre within one split part.
    genre, number = track_id.split(".")
    return f"{genre}-{split}-{int(number) // 8}"


def _gtzan_track(
    genre: str, artist: str, seed: int, sample_rate: int, n_samples: int, generator: torch.Generator
) -> torch.Tensor:
    """One synthetic track: a drum loop and a harmonic instrument, in the artist's tempo and timbre."""
    recipe = _RECIPES[genre]
    # The artist fixes tempo, register and timbre; each track varies around them.
    # (hashlib, not hash(): Python salts str hashes per process, which would break reproducibility.)
    artist_seed = int.from_bytes(hashlib.sha256(f"{artist}|{seed}".encode()).digest()[:4], "little")
    artist_gen = torch.Generator().manual_seed(artist_seed)
    u = torch.rand(4, generator=artist_gen)
    tempo = recipe.tempo_bpm[0] + (recipe.tempo_bpm[1] - recipe.tempo_bpm[0]) * float(u[0])
    tempo *= 1 + 0.03 * (float(torch.rand(1, generator=generator)) - 0.5)
    low, high = recipe.tone_hz
    root_hz = low * (high / low) ** float(u[1])
    brightness = recipe.brightness * (0.8 + 0.4 * float(u[2]))
    step = 60.0 / tempo / 4  # a sixteenth note, seconds
    t = torch.arange(n_samples, dtype=torch.float32) / sample_rate
    step_index = torch.floor(t / step)
    since_step = t - step_index * step
    position = torch.remainder(step_index, 16).long()
    out = torch.zeros(n_samples)

    def hits(steps: tuple[int, ...]) -> torch.Tensor:
        mask = torch.zeros(16, dtype=torch.bool)
        if steps:
            mask[list(steps)] = True
        return mask[position].float()

    if recipe.kick:
        out += (
            0.9 * hits(recipe.kick) * torch.exp(-since_step / 0.06)
            * torch.sin(2 * math.pi * (50 + 60 * torch.exp(-since_step / 0.02)) * since_step)
        )
    if recipe.snare:
        noise = torch.randn(n_samples, generator=generator)
        out += 0.5 * hits(recipe.snare) * torch.exp(-since_step / 0.05) * noise
    if recipe.hat_every:
        hat = tuple(range(0, 16, recipe.hat_every))
        noise = torch.randn(n_samples, generator=generator)
        hp = noise - torch.roll(noise, 1)  # crude high-pass
        out += 0.15 * hits(hat) * torch.exp(-since_step / 0.015) * hp
    # The instrument: one note per 16 / notes_per_bar sixteenths, from a pentatonic scale.
    note_len = 16 // recipe.notes_per_bar
    note_index = torch.floor(step_index / note_len).long()
    n_notes = int(note_index.max()) + 1
    scale = torch.tensor([0, 2, 4, 7, 9, 12, 14, 16], dtype=torch.float32)
    degrees = scale[torch.randint(0, len(scale), (n_notes,), generator=generator)]
    freq = root_hz * torch.pow(2.0, degrees / 12)[note_index]
    phase = 2 * math.pi * torch.cumsum(freq, dim=0) / sample_rate
    since_note = t - note_index * note_len * step
    env = torch.exp(-since_note / (note_len * step * 0.6))
    tone = sum(torch.sin(k * phase) / k**brightness for k in range(1, 7))
    if recipe.distortion > 0:
        tone = torch.tanh(recipe.distortion * tone) / math.tanh(recipe.distortion)
    out += 0.4 * env * tone
    out = out / out.pow(2).mean().sqrt().clamp_min(1e-8)
    out += torch.randn(n_samples, generator=generator) * 10 ** (recipe.noise_db / 20)
    return (0.25 * out / out.abs().max().clamp_min(1e-8)).unsqueeze(0)


def write_gtzan_layout(
    root: str | os.PathLike,
    *,
    tracks_per_genre: int | None = None,
    duration_s: float = 30.0,
    sample_rate: int = 22050,
    seed: int = 0,
    corrupt_jazz_00054: bool = True,
) -> Path:
    """Write synthetic "genres" in GTZAN's layout and return the ``genres`` folder.

    The tracks written are those of the fault-filtered split (:func:`gtzan_split_ids`), so the
    GTZAN dataset's default split finds every file. ``tracks_per_genre`` keeps only the first
    tracks of each genre *in each split part* (a small layout for tests and the book); ``None``
    writes all 930. Tracks also get an ``artist`` (written to ``genres/synthetic_artists.csv``):
    tracks of one artist share tempo and timbre and, like real GTZAN artists in the filtered
    split, never span two parts.

    ``jazz/jazz.00054.wav`` (listed in the filtered train split) is written as a corrupt file,
    as it is in the common GTZAN distribution, unless ``corrupt_jazz_00054=False``.

    Args:
        root: destination; the tracks go to ``root/genres/<genre>/<genre>.000NN.wav``.
        tracks_per_genre: tracks per genre per split part (``None``: all listed tracks).
        duration_s: seconds per track (GTZAN: 30).
        sample_rate: Hz (GTZAN: 22050).
        seed: random seed.
        corrupt_jazz_00054: write the known corrupt file.
    """
    root = Path(root)
    genres_dir = root / "genres"
    n_samples = int(round(duration_s * sample_rate))
    if n_samples < 1:
        raise ValueError(f"duration_s={duration_s} at {sample_rate} Hz gives no samples.")
    generator = torch.Generator().manual_seed(seed)
    artists: list[tuple[str, str, str]] = []
    for split, ids in gtzan_split_ids().items():
        chosen: list[str] = []
        for genre in GTZAN_GENRES:
            of_genre = [i for i in ids if i.startswith(genre + ".")]
            chosen.extend(of_genre if tracks_per_genre is None else of_genre[:tracks_per_genre])
        if corrupt_jazz_00054 and split == "train" and "jazz.00054" not in chosen:
            chosen.append("jazz.00054")
        for track_id in chosen:
            genre = track_id.split(".")[0]
            path = genres_dir / genre / f"{track_id}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            artist = _artist_of(track_id, split)
            artists.append((f"{genre}/{track_id}.wav", artist, split))
            if corrupt_jazz_00054 and track_id == "jazz.00054":
                # A RIFF header promising far more data than is present, then garbage.
                path.write_bytes(b"RIFF\xff\xff\xff\x7fWAVEfmt " + bytes(range(7, 31)))
                continue
            save_audio(path, _gtzan_track(genre, artist, seed, sample_rate, n_samples, generator), sample_rate)
    with open(genres_dir / "synthetic_artists.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "artist", "split"])
        writer.writerows(artists)
    return genres_dir

