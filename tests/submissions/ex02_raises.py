# exercise: ex02_specaugment
# expect: partial
# fails: spec_augment: both masks
# A submission whose cells raise: the grader records the errors and grades what is there.
# %% [added-first]
raise RuntimeError("a learner's cell that fails")
# %% [answer 3]
def spec_augment(spec, time_width, freq_width, generator, training=True):
    raise NotImplementedError
