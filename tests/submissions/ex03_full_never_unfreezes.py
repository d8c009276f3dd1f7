# exercise: ex03_transfer_learning
# expect: partial
# fails: set_trainable: full fine-tuning unfreezes
# Typical mistake: "fine-tuning" that never unfreezes anything (only "frozen" touches the flags).
# %% [answer 1]
def set_trainable(model, mode):
    if mode not in ("frozen", "full"):
        raise ValueError(mode)
    if mode == "frozen":
        for p in model.encoder.parameters():
            p.requires_grad_(False)
    return model
