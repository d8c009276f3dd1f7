"""Sonic Pi's sample library: what it is (package, version, credit) and our label table.

:data:`LABELS` is our label table (the file names alone are not labels: ``elec_*`` holds kicks,
snares and blips alike). Nine classes, each with the reason its files belong there
(:data:`CLASS_REASONS`); files that fit none are listed with a reason in :data:`EXCLUDED`.

============  =====  ==========================================================================
class         files  which files
============  =====  ==========================================================================
kick          20     ``bd_*``, ``drum_bass_*``, ``drum_heavy_kick``, ``elec_hollow_kick``, ``elec_soft_kick``
snare         11     ``sn_*``, ``drum_snare_*``, ``elec_*snare``
hihat_cymbal  32     ``hat_*``, ``drum_cymbal_*``, ``drum_splash_*``, ``ride_*``, ``elec_cymbal``, ``tbd_perc_hat``
tom           7      ``drum_tom_*``, ``elec_fuzz_tom``
tabla         26     ``tabla_*``
bass          9      ``bass_*``
ambient       16     ``ambi_*``, ``tbd_pad_*``, ``loop_drone_g_97``
electronic    16     the tonal ``elec_*`` blips, beeps, bells and chimes
loop          21     ``loop_*`` (but the drone), ``arovane_beat_*``
============  =====  ==========================================================================
"""

from __future__ import annotations

PACKAGE = "supersonic-scsynth-samples"
VERSION = "0.84.2"
LICENSE = "CC0-1.0"
HOMEPAGE = "https://github.com/samaaron/supersonic/tree/main/packages/supersonic-scsynth-samples"
SONIC_PI = "https://sonic-pi.net"

#: One line to print wherever the recordings are used.
CREDIT = (
    f"Recordings: Sonic Pi's sample library (Sam Aaron and contributors; Freesound.org uploaders, Arovane, "
    f"The Black Dog), npm package {PACKAGE} {VERSION}, licence {LICENSE} (public domain) — {HOMEPAGE}"
)

#: The same credit with links, for a Markdown cell or ``IPython.display.Markdown``.
CREDIT_MARKDOWN = (
    f"Recordings: the [Sonic Pi]({SONIC_PI}) sample library (Sam Aaron and contributors; Freesound.org "
    f"uploaders, Arovane, The Black Dog), npm package [`{PACKAGE}` {VERSION}]({HOMEPAGE}), licence "
    f"[{LICENSE}](https://creativecommons.org/publicdomain/zero/1.0/) (public domain)."
)

# --------------------------------------------------------------------------------------------
# The label table

#: class → (kind, why these files belong together). ``kind`` is ``"one-shot"`` (one window from the
#: start of the file, where the attack is) or ``"texture"`` (several windows spread over the file).
CLASS_REASONS: dict[str, tuple[str, str]] = {
    "kick": ("one-shot", "bass drums: a low thump (most energy below 150 Hz) that dies away within half a second"),
    "snare": ("one-shot", "snare drums: a drum body plus the broadband rattle of the snare wires, short"),
    "hihat_cymbal": ("one-shot", "metal plates (hi-hats, cymbals, splashes, rides): noisy energy mostly above 5 kHz"),
    "tom": ("one-shot", "toms: a pitched drum hit without snares, a decaying low-mid tone"),
    "tabla": ("one-shot", "strokes on the tabla pair: pitched, resonant, some with a pitch glide (ghe)"),
    "bass": ("one-shot", "synthesised bass notes: a sustained or plucked tone with its fundamental below 100 Hz"),
    "ambient": ("texture", "ambient textures and pads: sustained sound without a beat (hums, drones, choirs, pads)"),
    "electronic": ("one-shot", "short synthetic tonal blips, beeps, bells and chimes (one pack, looppool's)"),
    "loop": ("texture", "drum and percussion loops: several hits in a rhythm, seconds long"),
}

#: Class names, in label order.
CLASSES: tuple[str, ...] = tuple(CLASS_REASONS)


def _table() -> dict[str, str]:
    families = {
        "kick": [f"bd_{n}" for n in ("808", "ada", "boom", "chip", "fat", "gas", "haus", "jazz", "klub", "mehackit",
                                     "pure", "sone", "tek", "zome", "zum")]
        + ["drum_bass_hard", "drum_bass_soft", "drum_heavy_kick", "elec_hollow_kick", "elec_soft_kick"],
        "snare": ["sn_dolf", "sn_dub", "sn_generic", "sn_zome", "drum_snare_hard", "drum_snare_soft", "elec_snare",
                  "elec_lo_snare", "elec_mid_snare", "elec_hi_snare", "elec_filt_snare"],
        "hihat_cymbal": [f"hat_{n}" for n in ("bdu", "cab", "cats", "gem", "gnu", "gump", "hier", "len", "mess", "metal",
                                              "noiz", "psych", "raw", "sci", "snap", "star", "tap", "yosh", "zan", "zap",
                                              "zild")]
        + [f"drum_cymbal_{n}" for n in ("closed", "hard", "open", "pedal", "soft")]
        + ["drum_splash_hard", "drum_splash_soft", "ride_tri", "ride_via", "elec_cymbal", "tbd_perc_hat"],
        "tom": [f"drum_tom_{p}_{f}" for p in ("hi", "mid", "lo") for f in ("hard", "soft")] + ["elec_fuzz_tom"],
        "tabla": ["tabla_dhec"] + [f"tabla_ghe{i}" for i in range(1, 9)] + [f"tabla_ke{i}" for i in range(1, 4)]
        + ["tabla_na", "tabla_na_o", "tabla_na_s", "tabla_re", "tabla_tas1", "tabla_tas2", "tabla_tas3", "tabla_te1",
           "tabla_te2", "tabla_te_m", "tabla_te_ne", "tabla_tun1", "tabla_tun2", "tabla_tun3"],
        "bass": ["bass_dnb_f", "bass_drop_c", "bass_hard_c", "bass_hit_c", "bass_thick_c", "bass_trance_c", "bass_voxy_c",
                 "bass_voxy_hit_c", "bass_woodsy_c"],
        "ambient": [f"ambi_{n}" for n in ("choir", "dark_woosh", "drone", "glass_hum", "glass_rub", "haunted_hum",
                                          "lunar_land", "piano", "sauna", "soft_buzz", "swoosh")]
        + [f"tbd_pad_{i}" for i in range(1, 5)] + ["loop_drone_g_97"],
        "electronic": [f"elec_{n}" for n in ("beep", "bell", "blip", "blip2", "blup", "bong", "chime", "flip", "ping",
                                             "plip", "pop", "tick", "triangle", "twang", "twip", "wood")],
        "loop": [f"loop_{n}" for n in ("3d_printer", "amen", "amen_full", "breakbeat", "compus", "electric", "garzul",
                                       "industrial", "mehackit1", "mehackit2", "mika", "perc1", "perc2", "safari",
                                       "tabla", "weirdo")]
        + [f"arovane_beat_{c}" for c in "abcde"],
    }
    table: dict[str, str] = {}
    for cls, stems in families.items():
        for stem in stems:
            if stem in table:  # pragma: no cover - a typo in the table above
                raise AssertionError(f"{stem} is labelled twice")
            table[stem] = cls
    return table


#: Our label table: file stem (name without extension) → class. Stems, not file names: the library
#: holds ``bd_haus`` twice (FLAC and AIFF, the same samples); the task uses the FLAC file.
LABELS: dict[str, str] = _table()

#: Files (stems, or a file name for the AIFF duplicate) left out of the task, and why.
EXCLUDED: dict[str, str] = {
    **{f"guit_{n}": "guitar phrases: four files are too few for a class" for n in ("e_fifths", "e_slide", "em9", "harmonics")},
    **{f"vinyl_{n}": "vinyl effects (scratch, hiss, rewind): four unlike files, no class"
       for n in ("backspin", "hiss", "rewind", "scratch")},
    **{f"mehackit_phone{i}": "telephone sounds: four files, no class" for i in range(1, 5)},
    **{f"mehackit_robot{i}": "robotic voice effects: sound design, not one kind of source" for i in range(1, 8)},
    **{f"glitch_{n}": "glitch sound design: deliberately unlike any acoustic source"
       for n in ("bass_g", "perc1", "perc2", "perc3", "perc4", "perc5", "robot1", "robot2")},
    **{f"perc_{n}": "miscellaneous percussion (bells, snaps, a door, impacts, swooshes): no common family"
       for n in ("bell", "bell2", "door", "impact1", "impact2", "snap", "snap2", "swash", "swoosh", "till")},
    "misc_burp": "a single burp", "misc_crow": "a single crow call", "misc_cineboom": "a cinematic boom effect",
    "drum_cowbell": "a single cowbell", "drum_roll": "a snare roll: many hits, neither a one-shot snare nor a loop",
    "tbd_highkey_c4": "a keyboard note: no class", "tbd_voctone": "a vocal tone: no class",
    "tbd_fxbed_loop": "an effects bed: neither a beat nor a pad",
    "tbd_perc_blip": "a one-off percussive blip", "tbd_perc_tap_1": "a one-off tap", "tbd_perc_tap_2": "a one-off tap",
    "bd_haus.aiff": "the same samples as bd_haus.flac in another format: one recording must count once",
}
