"""``python -m course_lib.sonicpi [DIR]``: where the library is, its classes; with DIR, class folders."""

from __future__ import annotations

from .library import main

if __name__ == "__main__":
    raise SystemExit(main())
