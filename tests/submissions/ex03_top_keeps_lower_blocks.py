# exercise: ex03_transfer_learning
# expect: partial
# fails: set_trainable: top blocks only
# Typical mistake: "top" unfreezes the top blocks but never freezes what an earlier "full" unfroze,
# so the whole encoder is fine-tuned (and handed to the optimiser) without anyone noticing.
# %% [answer 1]
def set_trainable(model, mode, n_top=1):
    blocks = list(model.encoder.blocks)
    if mode not in ("frozen", "top", "full"):
        raise ValueError(mode)
    if mode == "top" and not 1 <= n_top <= len(blocks):
        raise ValueError(n_top)
    if mode != "top":
        for p in model.encoder.parameters():
            p.requires_grad_(mode == "full")
    else:
        for block in blocks[len(blocks) - n_top:]:
            for p in block.parameters():
                p.requires_grad_(True)
    for p in model.head.parameters():
        p.requires_grad_(True)
    return model
