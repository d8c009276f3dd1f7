# exercise: ex02_specaugment
# expect: partial
# fails: time_mask: axis and band
# fails: time_mask: seeded randomness
# fails: freq_mask: axis and band
# fails: spec_augment: off at evaluation
# Cheat: redefine course_lib (the grader's probes and checks) and torch's comparisons in the kernel.
# %% [added]
import torch
import course_lib.grading.exercises.ex02_specaugment as ex
import course_lib.grading.exercises._common as common
ex.probe = lambda shape, seed: torch.zeros(shape)
ex.CHECKS = ()
common.tensor_answer = lambda data, key, **kw: (torch.zeros(1), "")
torch.equal = lambda a, b: True
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
# %% [answer 1]
def time_mask(spec, max_width, generator):
    return torch.zeros_like(spec)
# %% [answer 2]
def freq_mask(spec, max_width, generator):
    return torch.zeros_like(spec)
# %% [answer 3]
def spec_augment(spec, time_width, freq_width, generator, training=True):
    return torch.zeros_like(spec)
