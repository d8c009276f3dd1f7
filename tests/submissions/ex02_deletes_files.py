# exercise: ex02_specaugment
# expect: zero
# Deletes files outside its folder (a protected sentinel the test names), writes into HOME,
# and deletes its own working folder (job file included).
# %% [added-first]
import os
import shutil
from pathlib import Path
sentinel = Path(os.environ["GRADING_TEST_SENTINEL"])
try:  # refused in the sandbox (read-only file system): the rest is tried all the same
    sentinel.unlink()
except OSError:
    pass
(Path.home() / "junk.txt").write_text("junk")
shutil.rmtree(os.getcwd(), ignore_errors=True)
