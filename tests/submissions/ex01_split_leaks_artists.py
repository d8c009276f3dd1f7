# exercise: ex01_gtzan_genres
# expect: partial
# fails: artist_disjoint_split: no leak, right size
# Typical mistake: tracks shuffled and cut, so artists land on both sides.
# %% [answer 3]
def artist_disjoint_split(track_ids, artist_of, test_fraction, seed):
    ids = list(track_ids)
    random.Random(seed).shuffle(ids)
    cut = int(round(test_fraction * len(ids)))
    return ids[cut:], ids[:cut]
