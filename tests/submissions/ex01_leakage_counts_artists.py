# exercise: ex01_gtzan_genres
# expect: partial
# fails: artist_leakage: value
# fails: artist_leakage: empty test list
# Typical mistake: the share of test *artists* seen in training, instead of test tracks.
# %% [answer 2]
def artist_leakage(train_ids, test_ids, artist_of):
    test_artists = {artist_of[t] for t in test_ids}
    train_artists = {artist_of[t] for t in train_ids}
    return len(test_artists & train_artists) / max(len(test_artists), 1)
