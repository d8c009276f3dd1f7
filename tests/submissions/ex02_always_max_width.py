# exercise: ex02_specaugment
# expect: partial
# fails: freq_mask: a mask per example
# Typical mistake: every mask is exactly max_width wide (no random width).
# %% [answer 2]
def freq_mask(spec, max_width, generator):
    out = spec.clone()
    n_mels = spec.shape[2]
    for b in range(spec.shape[0]):
        start = int(torch.randint(0, n_mels - max_width + 1, (1,), generator=generator))
        out[b, :, start:start + max_width, :] = 0.0
    return out
