# exercise: ex01_gtzan_genres
# expect: partial
# fails: read_artists: values
# fails: read_artists: missing column
# Typical mistake: columns read by position; a reordered or renamed column goes unnoticed.
# %% [answer 1]
def read_artists(csv_path):
    rows = list(csv.reader(open(csv_path)))[1:]
    return {Path(r[0]).stem: r[1] for r in rows}
