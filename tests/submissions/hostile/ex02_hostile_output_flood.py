# exercise: ex02_specaugment
# expect: reported
# An output flood, with the test's output limit of 16 MB: 64 MB printed (the log stops at the limit:
# the print raises "File too large"), then 8 files of 8 MB each written into its own folder (each
# file is under the limit; together they are not: the grader must end the run).
# %% [added-first]
import time
line = "flood " * 170_000 + "\n"
try:
    for _ in range(64):
        print(line, end="", flush=True)
finally:
    for k in range(8):
        with open(f"flood_{k}.bin", "wb") as handle:
            handle.write(b"\0" * (8 << 20))
    time.sleep(5)
