"""course_lib.diagrams.splits.split_diagram: the takes land where the split put them, the leak is drawn.

Fast (no training); the figures are closed after every test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from course_lib.data.splits import Split, group_overlap, grouped_split, stratified_split  # noqa: E402
from course_lib.diagrams._style import MIN_FONT_PT  # noqa: E402
from course_lib.diagrams.splits import LEAK_COLOUR, split_diagram  # noqa: E402

#: 40 recordings with 1, 2 or 3 takes each, four classes.
GROUPS = [f"src{k}" for k in range(40) for _ in range(1 + k % 3)]
LABELS = torch.tensor([int(g[3:]) % 4 for g in GROUPS])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def splits():
    leaky = stratified_split(LABELS, val_fraction=0.0, test_fraction=0.3, seed=0)
    grouped = grouped_split(GROUPS, val_fraction=0.0, test_fraction=0.3, seed=0)
    return leaky, grouped


def by_gid(fig, gid: str):
    return [a for a in fig.findobj() if a.get_gid() == gid]


def gids(fig) -> set[str]:
    return {a.get_gid() for a in fig.findobj() if a.get_gid()}


def text_of(fig, gid: str) -> str:
    return " ".join(a.get_text() for a in by_gid(fig, gid) if isinstance(a, Text))


def test_split_diagram_has_both_panels_at_column_width(splits):
    fig = split_diagram(GROUPS, *splits)
    assert fig.get_size_inches()[0] == pytest.approx(10.0)
    for p in (0, 1):
        assert by_gid(fig, f"panel-{p}") and by_gid(fig, f"caption-{p}") and by_gid(fig, f"stats-{p}")
        assert by_gid(fig, f"part-{p}-train") and by_gid(fig, f"part-{p}-test")
        assert not by_gid(fig, f"part-{p}-val")  # no validation clips: no validation column
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text) if t.get_text().strip()
             and t.get_fontsize() < MIN_FONT_PT]
    assert not small, f"labels below {MIN_FONT_PT} pt: {small[:5]}"


def test_split_diagram_draws_the_leak_only_in_the_leaky_split(splits):
    leaky, grouped = splits
    fig = split_diagram(GROUPS, leaky, grouped, n_sources=6)
    links = [g for g in gids(fig) if g.startswith("leak-")]
    assert links and all(g.startswith("leak-0-") for g in links)  # dashed links on the left only
    for gid in links:
        assert matplotlib.colors.to_hex(by_gid(fig, gid)[0].get_edgecolor()) == LEAK_COLOUR
    # every drawn take sits inside exactly one column (placement itself: the test below)
    for p in range(2):
        for row in range(6):
            for k in range(3):
                (square,) = by_gid(fig, f"take-{p}-{row}-{k}") or (None,)
                if square is None:
                    continue
                x = square.get_x() + square.get_width() / 2
                inside = [part for part in ("train", "test")
                          if by_gid(fig, f"part-{p}-{part}")[0].get_x() <= x
                          <= by_gid(fig, f"part-{p}-{part}")[0].get_x() + by_gid(fig, f"part-{p}-{part}")[0].get_width()]
                assert len(inside) == 1
    # the captions count over all clips, as group_overlap does
    share = group_overlap([GROUPS[i] for i in leaky.train.tolist()], [GROUPS[i] for i in leaky.test.tolist()])
    assert text_of(fig, "caption-0").startswith(f"{round(100 * share)} % of the test clips")
    assert text_of(fig, "caption-1").startswith("0 % of the test clips")
    # statistics: from train and test on the leaky side, from train only on the fixed side
    assert by_gid(fig, "stats-from-0-test") and not by_gid(fig, "stats-from-1-test")
    assert "test included" in text_of(fig, "stats-0-text") and "training clips only" in text_of(fig, "stats-1-text")


def test_split_diagram_places_each_take_where_the_split_put_it():
    groups = ["a", "a", "b", "b", "c", "c"]
    leaky = Split(torch.tensor([0, 2, 4]), torch.tensor([], dtype=torch.long), torch.tensor([1, 3, 5]))
    grouped = Split(torch.tensor([0, 1, 2, 3]), torch.tensor([], dtype=torch.long), torch.tensor([4, 5]))
    fig = split_diagram(groups, leaky, grouped, n_sources=3, show_statistics=False)
    train_box, test_box = by_gid(fig, "part-0-train")[0], by_gid(fig, "part-0-test")[0]
    a_take, b_take = by_gid(fig, "take-0-0-0")[0], by_gid(fig, "take-0-0-1")[0]
    assert train_box.get_x() < a_take.get_x() < train_box.get_x() + train_box.get_width()
    assert test_box.get_x() < b_take.get_x() < test_box.get_x() + test_box.get_width()
    assert {g for g in gids(fig) if g.startswith("leak-")} == {"leak-0-0", "leak-0-1", "leak-0-2"}
    assert not any(g.startswith("stats-") for g in gids(fig))
    assert text_of(fig, "caption-0").startswith("100 % of the test clips")


def test_split_diagram_draws_a_validation_column_when_there_is_one():
    groups = [f"s{k // 2}" for k in range(12)]
    split = Split(torch.arange(0, 6), torch.arange(6, 8), torch.arange(8, 12))
    leaky = Split(torch.tensor([0, 2, 4, 6, 8, 10]), torch.tensor([1, 3]), torch.tensor([5, 7, 9, 11]))
    fig = split_diagram(groups, leaky, split, n_sources=4, width=8)
    assert fig.get_size_inches()[0] == pytest.approx(8.0)
    assert by_gid(fig, "part-0-val") and by_gid(fig, "part-1-val")
    assert "validation" in [t.get_text() for t in fig.findobj(Text)]


def test_split_diagram_refuses_bad_arguments(splits):
    leaky, grouped = splits
    with pytest.raises(ValueError, match="groups is empty"):
        split_diagram([], leaky, grouped)
    with pytest.raises(TypeError, match="train, val and test"):
        split_diagram(GROUPS, {"train": [0]}, grouped)
    with pytest.raises(ValueError, match="outside the"):
        split_diagram(GROUPS[:5], leaky, grouped)
    both = Split(torch.tensor([0, 1]), torch.tensor([], dtype=torch.long), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="clip 1 is in both train and test"):
        split_diagram(GROUPS, both, grouped)
    with pytest.raises(ValueError, match="n_sources"):
        split_diagram(GROUPS, leaky, grouped, n_sources=1)
    with pytest.raises(ValueError, match="width"):
        split_diagram(GROUPS, leaky, grouped, width=30)
    single = [f"s{k}" for k in range(6)]
    one_each = Split(torch.arange(4), torch.tensor([], dtype=torch.long), torch.arange(4, 6))
    with pytest.raises(ValueError, match="two or more takes"):
        split_diagram(single, one_each, one_each)


def test_split_diagram_labels_do_not_overlap(splits):
    fig = split_diagram(GROUPS, *splits)
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(Text) if t.get_text().strip()]
    clashes = [(a, b) for k, (a, box_a) in enumerate(boxes) for b, box_b in boxes[k + 1:] if box_a.overlaps(box_b)]
    assert not clashes, clashes[:3]
    panel = by_gid(fig, "panel-0")[0].get_window_extent(renderer)
    figure = fig.bbox
    assert panel.x0 >= figure.x0 - 1 and panel.y0 >= figure.y0 - 1 and panel.y1 <= figure.y1 + 1
