# exercise: ex02_specaugment
# expect: reported
# Writes into the Python environment: a new .pth file in every site-packages folder it finds and a
# line appended to every existing .pth file there. A .pth line that starts with `import` runs at every
# interpreter start; this one ends every later *grading* run at once (COURSE_LIB_GRADING=1 is set in
# graded runs only, so nothing else on the machine is affected even if it were left behind).
# If every write fails (the sandbox's read-only file system), the cell raises that error.
# %% [added-first]
import site
import sysconfig
from pathlib import Path
payload = 'import os; os.environ.get("COURSE_LIB_GRADING") == "1" and os._exit(3)\n'
folders = {Path(p) for p in site.getsitepackages() + [sysconfig.get_paths()["purelib"]]}
errors, written = [], 0
for folder in sorted(folders):
    targets = [(folder / "zz_grading_hijack.pth", "w")] + [(p, "a") for p in sorted(folder.glob("*.pth"))]
    for path, mode in targets:
        try:
            with open(path, mode, encoding="utf-8") as handle:
                handle.write(payload)
            written += 1
        except OSError as err:
            errors.append(err)
if not written:
    raise errors[0]
