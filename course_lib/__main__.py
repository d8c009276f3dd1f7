"""``python -m course_lib``: the course's command line (see :mod:`course_lib.cli`)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
