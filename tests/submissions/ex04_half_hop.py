# exercise: ex04_attention
# expect: partial
# fails: frame_times: centres in seconds
# Typical mistake: frame times shifted by half a hop (frames treated as not centred).
# %% [answer 1]
def frame_times(n_frames, hop_length, sample_rate):
    return (torch.arange(n_frames) + 0.5) * hop_length / sample_rate
