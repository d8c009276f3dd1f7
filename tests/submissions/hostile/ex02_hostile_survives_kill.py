# exercise: ex02_specaugment
# expect: reported
# A process that outlives the run: it double-forks and calls setsid(), so killing the run's process
# group does not reach it, then keeps appending to a file outside its folder (the test points it at
# the score table, GRADING_TEST_TARGET) for 30 s: long after a grader that forgot it would have exited.
# Its answers are the solutions: the grader must report and kill the leftover, not guess at a score.
# %% [added-first]
import os
import time
target = os.environ.get("GRADING_TEST_TARGET", "")
if os.fork() == 0:
    try:  # a child must never return into the notebook's code
        os.setsid()
        if os.fork() == 0:
            for _ in range(300):
                try:
                    with open(target, "a", encoding="utf-8") as handle:
                        handle.write("tampered by a leftover process\n")
                except OSError:
                    pass
                time.sleep(0.1)
    finally:
        os._exit(0)
