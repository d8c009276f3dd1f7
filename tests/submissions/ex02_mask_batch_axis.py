# exercise: ex02_specaugment
# expect: partial
# fails: time_mask: axis and band
# Typical mistake: the band is cut along the batch axis (axis 0) instead of the frames.
# %% [answer 1]
def time_mask(spec, max_width, generator):
    out = spec.clone()
    width = int(torch.randint(0, max_width + 1, (1,), generator=generator))
    start = int(torch.randint(0, max(spec.shape[0] - width, 0) + 1, (1,), generator=generator))
    out[start:start + width] = 0.0
    return out
