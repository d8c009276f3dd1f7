# exercise: ex03_transfer_learning
# expect: partial
# fails: make_optimizer: groups
# fails: count_trainable
# Typical mistakes: every parameter handed to the optimiser; tensors counted instead of weights.
# %% [answer 2]
def count_trainable(model):
    return sum(1 for p in model.parameters() if p.requires_grad)
# %% [answer 3]
def make_optimizer(model, lr_head, lr_encoder, weight_decay):
    return torch.optim.AdamW(model.parameters(), lr=lr_head, weight_decay=weight_decay)
