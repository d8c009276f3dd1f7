# exercise: ex04_attention
# expect: partial
# fails: attention_mass_inside: negative weights
# fails: chance_mass
# Negative weights accepted silently; chance computed as 1 / frames.
# %% [answer 3]
def attention_mass_inside(attention, inside):
    return (attention * inside).sum(dim=-1) / attention.sum(dim=-1)
# %% [answer 4]
def chance_mass(inside):
    return torch.full((inside.shape[0],), 1.0 / inside.shape[1])
