# exercise: ex02_specaugment
# expect: zero
# Cheat: silence every error display, then answer with functions that fail.
# %% [added-first]
import sys
get_ipython().showtraceback = lambda *args, **kwargs: None
get_ipython().showsyntaxerror = lambda *args, **kwargs: None
sys.excepthook = lambda *args: None
# %% [answer 1]
def time_mask(spec, max_width, generator):
    raise AssertionError("hidden")
# %% [answer 2]
def freq_mask(spec, max_width, generator):
    raise AssertionError("hidden")
# %% [answer 3]
def spec_augment(spec, time_width, freq_width, generator, training=True):
    raise AssertionError("hidden")
