"""Exercise 1 — GTZAN genres: artist leakage, an artist-disjoint split, reading the artist table.

Introduced with exercise 1 (``book/exercises/ex01_gtzan_genres``). :func:`collect` runs in the
submission's process; :data:`CHECKS` run in the grader's process on the collected data.

The contract the learner implements:

* ``artist_leakage(train_ids, test_ids, artist_of)`` → ``float``: the share of **test tracks**
  whose artist also has a track in the training list; ``ValueError`` for an empty test list;
* ``artist_disjoint_split(track_ids, artist_of, test_fraction, seed)`` → ``(train_ids, test_ids)``:
  lists of track ids, every id in exactly one, no artist on both sides, whole artists drawn at
  random (seeded) into the test side until it holds at least ``test_fraction`` of the tracks;
* ``read_artists(csv_path)`` → ``dict``: track id (``"blues.00003"``) → artist, read from a CSV with
  the columns ``path,artist,split`` (``path`` like ``blues/blues.00003.wav``); a ``ValueError``
  that names the missing column otherwise.
"""

from __future__ import annotations

import random

import torch

from ..base import Check
from ._common import call, error_of

NAME = "ex01_gtzan_genres"


def probe_tracks() -> tuple[list[str], dict[str, str]]:
    """40 artists of 1–6 tracks each, ids in GTZAN style."""
    rng = random.Random(7)
    ids, artist_of = [], {}
    n = 0
    for a in range(40):
        genre = ["blues", "jazz", "rock", "pop"][a % 4]
        for _ in range(rng.randint(1, 6)):
            track = f"{genre}.{n:05d}"
            ids.append(track)
            artist_of[track] = f"artist{a:02d}"
            n += 1
    return ids, artist_of


def leakage_probe() -> tuple[list[str], list[str], dict[str, str]]:
    ids, artist_of = probe_tracks()
    # A random track split: artists land on both sides.
    rng = random.Random(3)
    shuffled = ids[:]
    rng.shuffle(shuffled)
    cut = int(0.7 * len(shuffled))
    return sorted(shuffled[:cut]), sorted(shuffled[cut:]), artist_of


def expected_leakage(train: list[str], test: list[str], artist_of: dict[str, str]) -> float:
    train_artists = {artist_of[t] for t in train}
    return sum(artist_of[t] in train_artists for t in test) / len(test)


CSV_GOOD = "path,artist,split\nblues/blues.00003.wav,b-train-0,train\njazz/jazz.00054.wav,j-train-6,train\nrock/rock.00090.wav,r-test-11,test\n"
CSV_REORDERED = "split,artist,path\ntest,r-test-11,rock/rock.00090.wav\n"
CSV_BAD = "path,singer,split\nblues/blues.00003.wav,b-train-0,train\n"


def collect(ns: dict) -> dict:
    out: dict = {}
    train, test, artist_of = leakage_probe()
    out["leakage.random"] = call(ns, "artist_leakage", list(train), list(test), dict(artist_of))
    ids, _ = probe_tracks()
    by_artist: dict[str, list[str]] = {}
    for t in ids:
        by_artist.setdefault(artist_of[t], []).append(t)
    disjoint_test = [t for a in sorted(by_artist)[:12] for t in by_artist[a]]
    disjoint_train = [t for t in ids if t not in set(disjoint_test)]
    out["leakage.disjoint"] = call(ns, "artist_leakage", disjoint_train, disjoint_test, dict(artist_of))
    out["leakage.empty"] = call(ns, "artist_leakage", list(train), [], dict(artist_of))
    for seed in (0, 0, 1):
        key = f"split.seed{seed}" if f"split.seed{seed}" not in out else f"split.seed{seed}.again"
        out[key] = call(ns, "artist_disjoint_split", list(ids), dict(artist_of), 0.3, seed)
    out["split.half"] = call(ns, "artist_disjoint_split", list(ids), dict(artist_of), 0.5, 2)
    for name, text in (("good", CSV_GOOD), ("reordered", CSV_REORDERED), ("bad", CSV_BAD)):
        with open(f"artists_{name}.csv", "w", encoding="utf-8") as handle:
            handle.write(text)
        out[f"read.{name}"] = call(ns, "read_artists", f"artists_{name}.csv")
    return out


# ---- grader side -------------------------------------------------------------------------------
def _as_float(value) -> tuple[float | None, str]:
    problem = error_of(value) if isinstance(value, dict) or value is None else None
    if problem:
        return None, problem
    if type(value) is float:
        return value, ""
    if type(value) is torch.Tensor and value.numel() == 1 and torch.is_floating_point(value):
        return float(value), ""
    return None, f"expected a float, got {type(value).__name__}"


def _leakage(data):
    train, test, artist_of = leakage_probe()
    value, msg = _as_float(data.get("leakage.random"))
    if value is None:
        return False, "artist_leakage: " + msg
    expected = expected_leakage(train, test, artist_of)
    if abs(value - expected) > 1e-9:
        test_artists = {artist_of[t] for t in test}
        by_artist = len(test_artists & {artist_of[t] for t in train}) / len(test_artists)
        if abs(value - by_artist) < 1e-9:
            return False, "you counted artists; the leakage is the share of test *tracks* whose artist is in training"
        if value > 1.0:
            return False, "a share must be between 0 and 1 (divide by the number of test tracks)"
        return False, f"wrong leakage for a random split (got {value:.3f})"
    value, msg = _as_float(data.get("leakage.disjoint"))
    if value is None or value != 0.0:
        return False, "an artist-disjoint split must have a leakage of 0.0" + (f" ({msg})" if msg else "")
    return True, "share of test tracks whose artist is in training"


def _leakage_empty(data):
    value = data.get("leakage.empty")
    if isinstance(value, dict) and str(value.get("__error__", "")).startswith("ValueError"):
        return True, "an empty test list is refused"
    return False, "an empty test list must raise a ValueError (a share of nothing is undefined, not 0)"


def _split_lists(value) -> tuple[tuple[list[str], list[str]] | None, str]:
    problem = error_of(value) if isinstance(value, dict) or value is None else None
    if problem:
        return None, problem
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, list) for v in value)):
        return None, "return a pair (train_ids, test_ids) of lists"
    if not all(type(t) is str for part in value for t in part):
        return None, "the lists must hold track id strings"
    return (value[0], value[1]), ""


def _split_disjoint(data):
    ids, artist_of = probe_tracks()
    for key, fraction in (("split.seed0", 0.3), ("split.seed1", 0.3), ("split.half", 0.5)):
        parts, msg = _split_lists(data.get(key))
        if parts is None:
            return False, f"artist_disjoint_split: {msg}"
        train, test = parts
        if sorted(train + test) != sorted(ids) or len(set(train)) != len(train) or len(set(test)) != len(test):
            return False, "every track must be in exactly one of the two lists"
        shared = {artist_of[t] for t in train} & {artist_of[t] for t in test}
        if shared:
            return False, f"the split leaks artists: {len(shared)} artist(s) on both sides, e.g. {sorted(shared)[0]}"
        share = len(test) / len(ids)
        if not fraction <= share <= fraction + 6 / len(ids) + 1e-9:
            return False, f"the test side holds {share:.2f} of the tracks for test_fraction={fraction}"
    return True, "a partition, no artist on both sides, test share as asked"


def _split_random(data):
    a, m1 = _split_lists(data.get("split.seed0"))
    b, m2 = _split_lists(data.get("split.seed0.again"))
    c, m3 = _split_lists(data.get("split.seed1"))
    if a is None or b is None or c is None:
        return False, m1 or m2 or m3
    if sorted(a[1]) != sorted(b[1]):
        return False, "the same seed gave different splits: seed your random generator with `seed`"
    if sorted(a[1]) == sorted(c[1]):
        return False, "different seeds gave the same split: the artists must be drawn at random"
    return True, "random, reproducible from the seed"


def _read(data):
    value = data.get("read.good")
    problem = error_of(value) if (isinstance(value, dict) and ("__error__" in value or "__unsupported__" in value)) or value is None else None
    if problem:
        return False, "read_artists: " + problem
    expected = {"blues.00003": "b-train-0", "jazz.00054": "j-train-6", "rock.00090": "r-test-11"}
    if not isinstance(value, dict) or value != expected or not all(type(v) is str for v in value.values()):
        return False, f"read_artists: expected {expected}, got {value!r}"[:300]
    other = data.get("read.reordered")
    if other != {"rock.00090": "r-test-11"}:
        return False, "read_artists must find the columns by name (csv.DictReader), not by position"
    return True, "track id -> artist"


def _read_bad(data):
    value = data.get("read.bad")
    if isinstance(value, dict) and str(value.get("__error__", "")).startswith("ValueError") and "artist" in value["__error__"]:
        return True, "a missing column is named in a ValueError"
    return False, "a CSV without an 'artist' column must raise a ValueError that names the missing column"


CHECKS: tuple[Check, ...] = (
    Check("artist_leakage: value", 3, _leakage),
    Check("artist_leakage: empty test list", 1, _leakage_empty),
    Check("artist_disjoint_split: no leak, right size", 4, _split_disjoint),
    Check("artist_disjoint_split: seeded randomness", 2, _split_random),
    Check("read_artists: values", 2, _read),
    Check("read_artists: missing column", 1, _read_bad),
)
