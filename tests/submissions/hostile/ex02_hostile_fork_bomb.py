# exercise: ex02_specaugment
# expect: reported
# A fork bomb, capped at 100 processes so that a broken limit cannot take the test machine down: each
# child sleeps, so they pile up. The process limit (64 in the test) must stop it: either fork() fails
# (the kernel's RLIMIT_NPROC: the cell then raises BlockingIOError) or the grader kills the run.
# %% [added-first]
import os
import time
for _ in range(100):
    if os.fork() == 0:
        try:  # a child must never return into the notebook's code
            time.sleep(60)
        finally:
            os._exit(0)
