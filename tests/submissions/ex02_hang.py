# exercise: ex02_specaugment
# expect: timeout
# An infinite loop: the grader must kill it at the time limit, score 0 and go on with the batch.
# %% [answer 1]
while True:
    pass
