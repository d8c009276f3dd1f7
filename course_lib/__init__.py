"""course_lib — the companion library of "Deep Learning for Audio — Introduction".

The package mirrors the book; each module names the chapter that introduces it:

==========================  ===========================================================
module                      what it holds (chapter)
==========================  ===========================================================
``course_lib.audio_io``     load / save audio, mono, resampling (soxr), length, levels (1)
``course_lib.features``     log-mel, log spectrogram, MFCC, standardisation (1)
``course_lib.plots``        waveform and spectrogram figures, audio players (1)
``course_lib.seeding``      one call that seeds Python, NumPy and PyTorch (1)
``course_lib.synthetic``    seeded synthetic sound events with onset / offset / SNR metadata (3)
``course_lib.pipeline``     threaded batched features, on-disk feature cache, batch datasets, loaders (3)
``course_lib.timing``       best-of-n wall-clock timing (3)
``course_lib.augment``      SpecAugment and waveform augmentations (3)
``course_lib.splits``       stratified, grouped and ESC-50 cross-validation splits (3)
``course_lib.layouts``      synthetic data written in the ESC-50 / GTZAN / class-folder layouts (3)
``course_lib.datasets``     ESC-50, GTZAN (filtered split) and folder datasets, real or synthetic (3)
``course_lib.download``     SHA-256-checked, atomic downloads, safe extraction; ``COURSE_DATA_DIR`` (3)
``course_lib.models``       SimpleAudioClassifier (2); AttentionCNN, AudioRNN, CRNN; ``build_model`` (4)
``course_lib.training``     ``fit``, ``TrainConfig``, history, checkpoints, class weights, sampler (2)
``course_lib.evaluation``   predictions with probabilities, scikit-learn metrics, per-class report (2)
``course_lib.recipe``       the recommended recipe: features, SpecAugment, training defaults (2)
``course_lib.pretrained``   wav2vec 2.0 (download once) and CREPE (offline) encoders, heads (5)
``course_lib.cli``          ``python -m course_lib train --root DIR --out OUTDIR`` (4)
``course_lib.explorer``     STFT resolution table, parameter comparison, live explorer (1)
``course_lib.experiments``  the pitfalls measured: overfitting, imbalance, leakage, normalisation (6)
``course_lib.case_study``   ESC-50 five-fold cross-validation, fast / full modes, references (7)
``course_lib.grading``      the instructor's isolated grader: ``python -m course_lib.grading`` (exercises)
==========================  ===========================================================

Modules import one way only: audio I/O → features → data → models → training →
evaluation / plots; grading sits on top.
"""

__version__ = "0.1.0"
