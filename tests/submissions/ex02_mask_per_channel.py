# exercise: ex02_specaugment
# expect: partial
# fails: time_mask: axis and band
# Typical mistake: a different mask for every channel (the channel axis treated as examples).
# %% [answer 1]
def time_mask(spec, max_width, generator):
    out = spec.clone()
    for b in range(spec.shape[0]):
        for c in range(spec.shape[1]):
            width = int(torch.randint(0, max_width + 1, (1,), generator=generator))
            start = int(torch.randint(0, spec.shape[-1] - width + 1, (1,), generator=generator))
            out[b, c, :, start:start + width] = 0.0
    return out
