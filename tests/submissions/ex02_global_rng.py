# exercise: ex02_specaugment
# expect: partial
# fails: time_mask: seeded randomness
# Typical mistake: the generator argument is ignored (global random state): not reproducible.
# %% [answer 1]
def time_mask(spec, max_width, generator):
    out = spec.clone()
    for b in range(spec.shape[0]):
        width = int(torch.randint(0, max_width + 1, (1,)))
        start = int(torch.randint(0, spec.shape[-1] - width + 1, (1,)))
        out[b, :, :, start:start + width] = 0.0
    return out
