# exercise: ex02_specaugment
# expect: partial
# fails: spec_augment: off at evaluation
# Typical mistake: augmentation applied at evaluation too.
# %% [answer 3]
def spec_augment(spec, time_width, freq_width, generator, training=True):
    return time_mask(freq_mask(spec, freq_width, generator), time_width, generator)
