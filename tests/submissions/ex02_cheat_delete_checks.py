# exercise: ex02_specaugment
# expect: partial
# fails: freq_mask: axis and band
# Cheat: the check cells are deleted, and the answer is wrong.
# %% [delete-checks]
# %% [answer 2]
def freq_mask(spec, max_width, generator):
    return spec * 0
