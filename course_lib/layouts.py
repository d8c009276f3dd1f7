"""Writers that lay synthetic data out exactly like the real datasets: ESC-50, GTZAN and class folders.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``). The dataset classes of
:mod:`course_lib.datasets` read these folders and the real downloads with the same code, so
everything that runs on the synthetic layouts here runs unchanged on the real data.

* :func:`write_esc50_layout` – ``audio/{fold}-{src_file}-{take}-{target}.wav`` and
  ``meta/esc50.csv`` with ESC-50's official header, 5 folds, 5 s clips at 44.1 kHz. Several
  *takes* of one *source* share a fold, as in ESC-50, and are near-duplicates (the same event,
  shifted and with fresh noise), so a split that separates takes of a source leaks.
* :func:`write_gtzan_layout` – ``genres/<genre>/<genre>.000NN.wav``, 10 genres, 30 s clips at
  22.05 kHz, built from rhythm and timbre recipes, with the track names of the fault-filtered split
  and a deliberately corrupt ``jazz/jazz.00054.wav`` as in the real distribution. Tracks of one
  synthetic *artist* share a tempo and timbre and lie in one part of the filtered split.
* :func:`write_folder_layout` – ``root/<class>/*.wav``, or ``root/{train,val,test}/<class>/*.wav``.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from .audio_io import save_audio
from .augment import add_noise_at_snr
from .splits import stratified_split
from .synthetic import SyntheticConfig, generate_batch, make_synthetic_dataset

__all__ = [
    "ESC50_HEADER",
    "GTZAN_GENRES",
    "esc50_config",
    "write_esc50_layout",
    "write_gtzan_layout",
    "write_folder_layout",
    "gtzan_split_ids",
]

#: The header of ESC-50's ``meta/esc50.csv``, in order.
ESC50_HEADER: tuple[str, ...] = ("filename", "fold", "target", "category", "esc10", "src_file", "take")

#: GTZAN's genres, in label order (the same as ``torchaudio.datasets.gtzan.gtzan_genres``).
GTZAN_GENRES: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock",
)


def esc50_config(**overrides) -> SyntheticConfig:
    """The synthetic settings of the ESC-50 layout: 5 s clips at 44.1 kHz, events of 0.5–3 s."""
    params = dict(sample_rate=44100, duration_s=5.0, event_duration_s=(0.5, 3.0), n_distractors=4)
    params.update(overrides)
    return SyntheticConfig(**params)


def _take_letter(i: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i]


def write_esc50_layout(
    root: str | os.PathLike,
    *,
    sources_per_class: int = 10,
    max_takes: int = 3,
    n_folds: int = 5,
    config: SyntheticConfig | None = None,
    seed: int = 0,
    chunk: int = 16,
) -> Path:
    """Write a synthetic dataset in ESC-50's layout and return the path of ``meta/esc50.csv``.

    Each class gets ``sources_per_class`` source recordings spread evenly over the folds; each
    source has 1 to ``max_takes`` takes (A, B, C, ...), all in the source's fold. A take is the
    source clip shifted in time by up to 0.5 s, with fresh noise at 25 dB SNR and a gain of
    ±3 dB: close enough to leak if takes are split apart.

    Args:
        root: destination folder (``root/audio``, ``root/meta/esc50.csv``).
        sources_per_class: source recordings per class (>= n_folds gives every fold every class).
        max_takes: most takes per source (>= 1).
        n_folds: number of folds (ESC-50 has 5).
        config: synthetic settings (default :func:`esc50_config`: 5 s, 44.1 kHz).
        seed: random seed.
        chunk: clips generated per batch (bounds memory: 16 clips of 5 s at 44.1 kHz ≈ 30 MB).

    Returns:
        The path of ``meta/esc50.csv``.
    """
    if sources_per_class < 1 or max_takes < 1 or n_folds < 1:
        raise ValueError(
            f"sources_per_class, max_takes and n_folds must be >= 1, got {sources_per_class}, {max_takes}, {n_folds}."
        )
    config = esc50_config() if config is None else config
    root = Path(root)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "meta").mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    sr = config.sample_rate
    max_shift = int(0.5 * sr)
    rows: list[dict[str, object]] = []
    src_id = 100000 + 1000 * (seed % 100)
    for target, category in enumerate(config.class_names):
        sources: list[torch.Tensor] = []
        for start in range(0, sources_per_class, chunk):
            n = min(chunk, sources_per_class - start)
            waveforms, _ = generate_batch(target, n, config=config, generator=generator)
            sources.extend(waveforms)
        for s, source in enumerate(sources):
            fold = 1 + s % n_folds
            src_id += 1
            n_takes = 1 + int(torch.randint(0, max_takes, (1,), generator=generator))
            for take in range(n_takes):
                clip = source
                if take > 0:
                    shift = int(torch.randint(-max_shift, max_shift + 1, (1,), generator=generator))
                    clip = torch.roll(source, shift, dims=-1)
                    if shift > 0:
                        clip[..., :shift] = 0.0
                    elif shift < 0:
                        clip[..., shift:] = 0.0
                    clip = add_noise_at_snr(clip, 25.0, generator=generator)
                    gain_db = float(torch.empty(1).uniform_(-3.0, 3.0, generator=generator))
                    clip = (clip * 10 ** (gain_db / 20)).clamp(-0.999, 0.999)
                filename = f"{fold}-{src_id}-{_take_letter(take)}-{target}.wav"
                save_audio(root / "audio" / filename, clip, sr)
                rows.append(
                    {
                        "filename": filename,
                        "fold": fold,
                        "target": target,
                        "category": category,
                        "esc10": "False",
                        "src_file": src_id,
                        "take": _take_letter(take),
                    }
                )
    meta = root / "meta" / "esc50.csv"
    with open(meta, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ESC50_HEADER))
        writer.writeheader()
        writer.writerows(rows)
    return meta


# --------------------------------------------------------------------------------------------
# GTZAN


def gtzan_split_ids() -> dict[str, list[str]]:
    """The fault-filtered, artist-disjoint GTZAN split shipped with torchaudio.

    Returns:
        ``{"train": [...], "valid": [...], "test": [...]}`` of track ids like ``"blues.00029"``
        (443 / 197 / 290 tracks; Kereliuk, Sturm & Larsen, 2015).
    """
    from torchaudio.datasets import gtzan

    return {"train": list(gtzan.filtered_train), "valid": list(gtzan.filtered_valid), "test": list(gtzan.filtered_test)}


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
        out += 0.9 * hits(recipe.kick) * torch.exp(-since_step / 0.06) * torch.sin(2 * math.pi * (50 + 60 * torch.exp(-since_step / 0.02)) * since_step)
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


# --------------------------------------------------------------------------------------------
# Class folders


def write_folder_layout(
    root: str | os.PathLike,
    n_per_class: int = 10,
    *,
    config: SyntheticConfig | None = None,
    seed: int = 0,
    split_folders: Sequence[str] | None = None,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> Path:
    """Write synthetic clips as ``root/<class>/<class>_NNNN.wav`` (or into split folders).

    Args:
        root: destination.
        n_per_class: clips per class.
        config: synthetic settings (default :class:`SyntheticConfig`).
        seed: random seed.
        split_folders: ``None`` for ``root/<class>/``; ``("train", "val", "test")`` or
            ``("train", "test")`` for a fixed split ``root/<split>/<class>/`` (stratified, seeded).
        val_fraction, test_fraction: shares of each class for the split folders.

    Returns:
        ``root``.
    """
    root = Path(root)
    data = make_synthetic_dataset(n_per_class, config=config, seed=seed)
    parts: dict[str, torch.Tensor]
    if split_folders is None:
        parts = {"": torch.arange(len(data))}
    else:
        split_folders = tuple(split_folders)
        if split_folders not in (("train", "val", "test"), ("train", "test")):
            raise ValueError(f"split_folders must be ('train', 'val', 'test') or ('train', 'test'), got {split_folders!r}.")
        has_val = "val" in split_folders
        split = stratified_split(data.labels, val_fraction=val_fraction if has_val else 0.0, test_fraction=test_fraction, seed=seed)
        parts = {"train": split.train, "test": split.test}
        if has_val:
            parts["val"] = split.val
    for part, indices in parts.items():
        for i in indices.tolist():
            name = data.class_names[int(data.labels[i])]
            save_audio(root / part / name / f"{name}_{i:04d}.wav", data.waveforms[i], data.sample_rate)
    return root
