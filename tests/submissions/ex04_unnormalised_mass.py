# exercise: ex04_attention
# expect: partial
# fails: attention_mass_inside: value
# fails: attention_mass_inside: normalised
# Typical mistake: the attention mass is not normalised by the row's total.
# %% [answer 3]
def attention_mass_inside(attention, inside):
    if bool((attention < 0).any()):
        raise ValueError("negative")
    return (attention * inside).sum(dim=-1)
