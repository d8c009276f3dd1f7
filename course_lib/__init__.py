"""course_lib — the companion library of "Deep Learning for Audio — Introduction".

The package is organised by topic, with a chapter layer on top. Each entry names, in brackets,
the chapter that introduces it: the first chapter whose code imports it, directly or through a
compatibility module that re-exports it (``tests/book/test_module_table.py`` checks this table and
the README's against the notebooks); ``—``: no chapter imports it.

====================================  ====================================================================
module                                what it holds (chapter)
====================================  ====================================================================
``course_lib.audio_io``               load / save audio, mono, resampling (soxr), length, levels (1)
``course_lib.features``               log-mel, log spectrogram, MFCC, standardisation, batches (1)
``course_lib.plots``                  waveform and spectrogram figures, audio players (1)
``course_lib.diagrams``               figures drawn from the code: framing, pipeline, models (1)
``course_lib.sonicpi``                the CC0 Sonic Pi recordings: labels, windows, grouped splits (1)
``course_lib.runtime``                seeding, device, worker threads, atomic file writes (1)
``course_lib.chapters``               the chapter layer: ``ch01_explorer``, ``ch03_…``, ``ch06_…``, ``ch07_…`` (1)
``course_lib.data``                   decode, feature cache, loaders, datasets, synthetic data, splits (2)
``course_lib.models``                 SimpleCNN, AttentionCNN, AudioRNN, CRNN; ``build_model`` (2)
``course_lib.train``                  ``fit``, settings and history, checkpoints, class balance (2)
``course_lib.evaluation``             predictions with probabilities, scikit-learn metrics, report (2)
``course_lib.recipe``                 the recommended recipe: features, SpecAugment, training (2)
``course_lib.comparison``             runs over several seeds, their mean and spread (2)
``course_lib.augment``                SpecAugment and waveform augmentations (3)
``course_lib.timing``                 best-of-n wall-clock timing (3)
``course_lib.showcode``               library code shown on a page, no docstring/checks (3)
``course_lib.pretrained``             aiSFX and CREPE (offline) and wav2vec 2.0 encoders, heads (5)
``course_lib.transfer_experiments``   cached encoder outputs, fine-tuning, learning curves (5)
``course_lib.cli``                    ``python -m course_lib train --root DIR --out OUTDIR`` (—)
``course_lib.transfer``               the transfer recipe on audio files, run by the CLI (—)
``course_lib.inference``              class probabilities for new audio files (—)
``course_lib.transfer_clips``         clips of the transfer experiments, encoded once (—)
``course_lib.runs``                   one run: seed → build → fit → predict → metrics (—)
``course_lib.frontend``               the front end a recipe fixes: rate, clip length, crop, log-mel (—)
``course_lib.grading``                the instructor's isolated grader: ``python -m course_lib.grading`` (—)
====================================  ====================================================================

Modules import one way only: audio I/O → features → data → models → training → evaluation, the
pretrained encoders beside the models, the chapter layer on top, the grader apart (it imports
nothing of the library). ``lint-imports`` checks it (the contracts are in ``pyproject.toml``).
"""

__version__ = "0.1.0"
