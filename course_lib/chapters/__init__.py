"""The chapter layer: code that one chapter uses to teach, above the library that does the work.

Each module is named after its chapter and may import anything in :mod:`course_lib`; nothing in
the library imports these modules (``lint-imports`` checks it, see ``pyproject.toml``).

=================================  ============================================================
module                             what it holds
=================================  ============================================================
``chapters.ch01_explorer``         the STFT explorer: resolution table, comparison, live widgets
``chapters.ch03_data_pipeline``    the seed's per-item pipeline, kept to measure it
``chapters.ch06_tools``            chapter 6's recipe and model, scores, augmented views
``chapters.ch06_pitfalls``         the pitfalls measured: overfitting, imbalance, leakage, statistics
``chapters.ch06_demos``            chapter 6's runs with its settings; percentages; code display
``chapters.ch07_case_study``       ESC-50 five-fold cross-validation, fast / full, references
``chapters.ch07_transfer``         the transfer recipe on the same folds (aiSFX embeddings + head)
=================================  ============================================================
"""
