# exercise: ex02_specaugment
# expect: partial
# fails: time_mask: input unchanged
# Typical mistake: the input spectrogram is modified in place (the cached features get corrupted).
# %% [answer 1]
def time_mask(spec, max_width, generator):
    for b in range(spec.shape[0]):
        width = int(torch.randint(0, max_width + 1, (1,), generator=generator))
        start = int(torch.randint(0, spec.shape[-1] - width + 1, (1,), generator=generator))
        spec[b, :, :, start:start + width] = 0.0
    return spec
