# exercise: ex02_specaugment
# expect: partial
# fails: time_mask: axis and band
# fails: freq_mask: axis and band
# fails: spec_augment: both masks
# Cheat: write "expected outputs" and always-passing tests where a grader might look for them:
# the working folder's tests/, the exercises' folder, and the grader's own check module.
# %% [added]
import os
from pathlib import Path
import course_lib
repo = Path(course_lib.__file__).resolve().parents[1]
passing = "OK_FORMAT = True\ntest = {'name': 'q1', 'points': 8, 'suites': [{'cases': [{'code': '>>> True', 'hidden': False, 'locked': False}], 'scored': True, 'setup': '', 'teardown': '', 'type': 'doctest'}]}\n"
for folder in (Path("tests"), repo / "exercises" / "tests"):
    folder.mkdir(parents=True, exist_ok=True)
    for q in ("q1", "q2", "q3"):
        (folder / f"{q}.py").write_text(passing.replace("q1", q))
checks = repo / "course_lib" / "grading" / "exercises" / "ex02_specaugment.py"
checks.write_text("from ..base import Check\nCHECKS = (Check('all', 20, lambda data: (True, 'ok')),)\n" +
                  "def collect(ns):\n    return {}\n")
# %% [answer 1]
def time_mask(spec, max_width, generator):
    return spec.clone()
# %% [answer 2]
def freq_mask(spec, max_width, generator):
    return spec.clone()
# %% [answer 3]
def spec_augment(spec, time_width, freq_width, generator, training=True):
    return spec.clone()
