# exercise: ex02_specaugment
# expect: zero
# Cheat: return objects whose == is always True and that pretend to have the right shape.
# %% [answer 1]
class Anything:
    def __init__(self, like):
        self.shape, self.dtype = like.shape, like.dtype
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __getattr__(self, name):
        return lambda *a, **k: self

def time_mask(spec, max_width, generator):
    return Anything(spec)
# %% [answer 2]
def freq_mask(spec, max_width, generator):
    return Anything(spec)
# %% [answer 3]
def spec_augment(spec, time_width, freq_width, generator, training=True):
    return Anything(spec)
