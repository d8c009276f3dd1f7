"""course_lib.diagrams.folds: the cross-validation diagram draws the folds and splits it is given.

Fast (metadata only, no audio); the figures are closed after every test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from course_lib.data.splits import esc50_cv_folds  # noqa: E402
from course_lib.diagrams import MIN_FONT_PT  # noqa: E402
from course_lib.diagrams.folds import ROLE_COLOURS, cv_folds_diagram  # noqa: E402

# 5 folds; source s<f>-<j> has j + 1 takes, all in fold f (ESC-50's rule).
FOLDS = [f for f in range(1, 6) for j in range(4) for _ in range(j + 1)]
GROUPS = [f"s{f}-{j}" for f in range(1, 6) for j in range(4) for _ in range(j + 1)]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def by_gid(fig, gid: str):
    return [a for a in fig.findobj() if a.get_gid() == gid]


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def test_each_run_colours_its_own_test_fold_and_the_carved_out_validation_sources():
    splits = esc50_cv_folds(FOLDS, groups=GROUPS, val_fraction=0.25, seed=0)
    fig = cv_folds_diagram(FOLDS, GROUPS, splits, run_folds=(1, 2, 3))
    assert fig.get_size_inches()[0] == pytest.approx(10.0)
    for k in range(1, 6):
        assert len(by_gid(fig, f"fold-{k}")) == 4  # one box per source, in its one fold
        assert f"{FOLDS.count(k)} clips\n4 sources" in texts(fig)
    for k, split in zip(range(1, 6), splits):
        n_sources = {role: len({GROUPS[i] for i in part.tolist()}) for role, part in zip(("train", "val", "test"), split)}
        for role, colour in ROLE_COLOURS.items():
            boxes = by_gid(fig, f"run-{k}-{role}")
            assert len(boxes) == n_sources[role], (k, role)
            assert all(to_hex(b.get_facecolor()) == colour for b in boxes)
        assert n_sources["test"] == 4 and n_sources["val"] > 0
        (label,) = by_gid(fig, f"run-{k}-label")
        assert f"train {len(split.train)} · val {len(split.val)} · test {len(split.test)}" in label.get_text()
        assert ("(not run)" in label.get_text()) == (k > 3)
        faded = {b.get_alpha() for role in ROLE_COLOURS for b in by_gid(fig, f"run-{k}-{role}")}
        assert faded == ({1.0} if k <= 3 else {0.3})
    small = [t.get_text() for t in fig.findobj(Text) if t.get_text().strip() and t.get_fontsize() < MIN_FONT_PT]
    assert not small


def test_box_widths_follow_the_takes_of_each_source():
    splits = esc50_cv_folds(FOLDS, groups=GROUPS)
    fig = cv_folds_diagram(torch.tensor(FOLDS), GROUPS, splits, width=12)
    assert fig.get_size_inches()[0] == pytest.approx(12.0)
    widths = [b.get_width() for b in by_gid(fig, "fold-1")]
    assert widths == pytest.approx([widths[0] * t for t in (1, 2, 3, 4)])
    assert not by_gid(fig, "run-1-val")  # no validation asked for: none drawn
    assert not any("(not run)" in t for t in texts(fig))


def test_refuses_what_is_not_the_official_protocol():
    splits = esc50_cv_folds(FOLDS, groups=GROUPS, val_fraction=0.25, seed=0)
    leaky = list(GROUPS)
    leaky[-1] = GROUPS[0]  # a take of fold 1's first source in fold 5
    with pytest.raises(ValueError, match="one fold"):
        cv_folds_diagram(FOLDS, leaky, splits)
    with pytest.raises(ValueError, match="one split per fold"):
        cv_folds_diagram(FOLDS, GROUPS, splits[:4])
    with pytest.raises(ValueError, match="not fold 2"):
        cv_folds_diagram(FOLDS, GROUPS, [splits[0], splits[0], *splits[2:]])
    train, val, test = splits[0]
    with pytest.raises(ValueError, match="cover every clip"):
        cv_folds_diagram(FOLDS, GROUPS, [(train[1:], val, test), *splits[1:]])
    with pytest.raises(ValueError, match="disjoint"):
        cv_folds_diagram(FOLDS, GROUPS, [(torch.cat([train, test[:1]]), val, test), *splits[1:]])
    with pytest.raises(ValueError, match="groups has"):
        cv_folds_diagram(FOLDS, GROUPS[:-1], splits)
    with pytest.raises(ValueError, match="run_folds"):
        cv_folds_diagram(FOLDS, GROUPS, splits, run_folds=(6,))
    with pytest.raises(ValueError, match="width"):
        cv_folds_diagram(FOLDS, GROUPS, splits, width=3)
