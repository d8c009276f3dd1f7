# exercise: ex03_transfer_learning
# expect: partial
# fails: set_trainable: full fine-tuning unfreezes
# Typical mistake: "fine-tuning" that never unfreezes anything (only "frozen" and "top" touch the flags).
# %% [answer 1]
def set_trainable(model, mode, n_top=1):
    blocks = list(model.encoder.blocks)
    if mode not in ("frozen", "top", "full"):
        raise ValueError(mode)
    if mode == "top" and not 1 <= n_top <= len(blocks):
        raise ValueError(n_top)
    if mode in ("frozen", "top"):
        for p in model.encoder.parameters():
            p.requires_grad_(False)
        for p in model.head.parameters():
            p.requires_grad_(True)
    if mode == "top":
        for block in blocks[len(blocks) - n_top:]:
            for p in block.parameters():
                p.requires_grad_(True)
    return model
