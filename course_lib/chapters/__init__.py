"""The chapter layer: code that one chapter uses to teach, above the library that does the work.

Each module is named after its chapter and may import anything in :mod:`course_lib`; nothing in
the library imports these modules (``lint-imports`` checks it, see ``pyproject.toml``).

=================================  ============================================================
module                             what it holds
=================================  ============================================================
``chapters.ch03_data_pipeline``    the seed's per-item pipeline, kept to measure it
=================================  ============================================================
"""
