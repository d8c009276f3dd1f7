# exercise: ex02_specaugment
# expect: partial
# fails: time_mask: a mask per example
# Typical mistake: one mask drawn per call and applied to the whole batch.
# %% [answer 1]
def time_mask(spec, max_width, generator):
    out = spec.clone()
    width = int(torch.randint(0, max_width + 1, (1,), generator=generator))
    start = int(torch.randint(0, spec.shape[-1] - width + 1, (1,), generator=generator))
    out[..., start:start + width] = 0.0
    return out
