# exercise: ex02_specaugment
# expect: partial
# fails: time_mask: axis and band
# Cheat: the check cells are rewritten to pass, and the answer is wrong (it masks nothing useful).
# %% [checks]
print("All tests passed!")
# %% [answer 1]
def time_mask(spec, max_width, generator):
    return spec.clone()
