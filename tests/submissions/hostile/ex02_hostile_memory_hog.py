# exercise: ex02_specaugment
# expect: reported
# A memory hog, with the test's memory limit of 1500 MB: first one process asks for 3 GiB (the
# per-process limit must refuse it), then five processes take 400 MB each, 2 GB together (the limit
# on the whole process tree must end the run).
# %% [added-first]
import os
import time
try:
    hog = bytearray(3 << 30)
except MemoryError:
    pass
else:
    raise RuntimeError("3 GiB allocated in one process: no per-process memory limit")
for _ in range(5):
    if os.fork() == 0:
        try:  # a child must never return into the notebook's code
            block = b"x" * (400 << 20)
            time.sleep(60)
        finally:
            os._exit(0)
time.sleep(60)
