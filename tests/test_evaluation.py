"""Metrics, predictions, reports and training figures (course_lib.evaluation, course_lib.plots)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score
from torch.utils.data import TensorDataset

from course_lib.evaluation import (
    classification_metrics,
    confusion,
    evaluate,
    inference_time_per_clip,
    per_class_report,
    predict,
)
from course_lib.models import build_model
from course_lib.plots import plot_confusion_matrix, plot_history
from course_lib.train import History

Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 1, 2, 2, 2, 2, 2, 0])
NAMES = ["dog", "rain", "siren"]


def test_metrics_match_scikit_learn():
    m = classification_metrics(Y_TRUE, Y_PRED, class_names=NAMES)
    assert m["accuracy"] == pytest.approx(0.7)
    assert m["macro_f1"] == pytest.approx(f1_score(Y_TRUE, Y_PRED, average="macro"))
    assert m["weighted_f1"] == pytest.approx(f1_score(Y_TRUE, Y_PRED, average="weighted"))
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 4 / 5) / 3)
    assert m["per_class"]["rain"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [1, 0, 4]]
    assert m["n_examples"] == 10


def test_confusion_normalised_and_absent_classes():
    cm = confusion(Y_TRUE, Y_PRED, 4, normalize="true")
    assert cm.shape == (4, 4)
    np.testing.assert_allclose(cm[:3].sum(axis=1), 1.0)
    assert (cm[3] == 0).all()  # a class with no examples: a zero row, not NaN
    m = classification_metrics(Y_TRUE, Y_PRED, n_classes=4)
    assert m["macro_f1"] == pytest.approx(f1_score(Y_TRUE, Y_PRED, average="macro"))  # averaged over present classes


def test_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        classification_metrics([0, 1], [0])
    with pytest.raises(ValueError, match="must lie in"):
        classification_metrics([0, 3], [0, 1], class_names=NAMES)


def test_report_names_every_class():
    report = per_class_report(Y_TRUE, Y_PRED, NAMES)
    for name in NAMES + ["macro avg", "weighted avg"]:
        assert name in report


def test_predict_and_evaluate():
    torch.manual_seed(0)
    model = build_model("attention_cnn", 3, 32, channels=(4, 8))
    x, y = torch.randn(7, 1, 32, 20), torch.tensor([0, 1, 2, 0, 1, 2, 0])
    model.train()
    p = predict(model, TensorDataset(x, y), batch_size=3)
    assert model.training  # mode restored
    assert p.probabilities.shape == (7, 3)
    np.testing.assert_allclose(p.probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(p.predictions, p.probabilities.argmax(axis=1))
    np.testing.assert_array_equal(p.labels, y.numpy())
    again = predict(model, (x, y))  # eval mode: dropout off, same answer
    np.testing.assert_allclose(again.probabilities, p.probabilities, rtol=1e-5)
    assert predict(model, x).labels is None
    result = evaluate(model, TensorDataset(x, y), NAMES)
    assert result.accuracy == pytest.approx(float((p.predictions == y.numpy()).mean()))
    assert "dog" in result.report() and result.confusion_matrix.shape == (3, 3)
    seconds = inference_time_per_clip(model, x, repeats=2)
    assert 0 < seconds < 5


def test_training_figures():
    history = History(epoch=[1, 2, 3], train_loss=[1.0, 0.7, 0.5], train_accuracy=[0.3, 0.6, 0.8],
                      val_loss=[1.1, 0.8, 0.9], val_accuracy=[0.3, 0.5, 0.5], lr=[1e-3, 3e-3, 1e-3], best_epoch=2)
    fig = plot_history(history, title="t")
    assert len(fig.axes) == 3
    assert fig.axes[1].get_ylabel() == "accuracy (%)"
    assert len(plot_history(history.to_dict(), show_lr=False).axes) == 2
    ax = plot_confusion_matrix(np.array([[2, 1, 0], [0, 1, 1], [1, 0, 4]]), NAMES, normalize=True)
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert [t.get_text() for t in ax.texts] == ["67", "33", "50", "50", "20", "80"]  # % of each true class
    assert ax.images[0].colorbar.ax.get_ylabel() == "% of the true class"
    with pytest.raises(ValueError, match="3 class names"):
        plot_confusion_matrix(np.eye(2), NAMES)
    with pytest.raises(ValueError, match="empty"):
        plot_history(History())
    plt.close("all")


def test_history_figure_has_whole_epoch_ticks_and_readable_text_at_column_width():
    from course_lib.plots import rendered_px

    n = 14
    history = History(epoch=list(range(1, n + 1)), train_loss=np.linspace(2, 1, n).tolist(),
                      train_accuracy=np.linspace(0.2, 0.9, n).tolist(), val_loss=np.linspace(2, 1.1, n).tolist(),
                      val_accuracy=np.linspace(0.2, 0.8, n).tolist(), lr=np.linspace(1e-4, 3e-3, n).tolist(),
                      best_epoch=n)
    fig = plot_history(history)
    fig.canvas.draw()
    for ax in fig.axes:  # every panel draws epochs, the learning-rate panel included
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), (ax.get_ylabel(), ticks)
    legend = fig.axes[0].get_legend()
    assert legend is not None and "best epoch (14)" in [t.get_text() for t in legend.get_texts()]
    assert min(rendered_px(fig, t.get_fontsize()) for t in legend.get_texts()) >= 10
    tick_labels = [t for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert min(rendered_px(fig, t.get_fontsize()) for t in tick_labels) >= 10
    assert fig.get_figwidth() * 100 >= 700  # at least the column's width: shown at full width
    plt.close("all")


def _predictions(labels, probabilities):
    from course_lib.evaluation import Predictions

    probs = np.asarray(probabilities, dtype=float)
    return Predictions(labels=np.asarray(labels), predictions=probs.argmax(axis=1), probabilities=probs)


def test_confident_mistakes_keeps_the_surest_mistake_of_each_confused_pair():
    from course_lib.evaluation import Mistake, confident_mistakes

    p = _predictions(
        [0, 0, 0, 1, 2, 2, 1],
        [[0.9, 0.1, 0.0],   # right
         [0.3, 0.7, 0.0],   # 0 -> 1 at 0.7
         [0.1, 0.8, 0.1],   # 0 -> 1 at 0.8: the surest of the pair
         [0.6, 0.4, 0.0],   # 1 -> 0 at 0.6
         [0.0, 0.1, 0.9],   # right
         [0.95, 0.0, 0.05],  # 2 -> 0 at 0.95
         [0.6, 0.4, 0.0]],  # 1 -> 0 at 0.6 again: a tie, the lower index (3) stays
    )
    got = confident_mistakes(p)
    assert got == [Mistake(5, 2, 0, 0.95), Mistake(2, 0, 1, 0.8), Mistake(3, 1, 0, 0.6)]
    assert confident_mistakes(p, k=2) == got[:2]
    assert confident_mistakes(_predictions([0, 1], [[0.9, 0.1], [0.2, 0.8]])) == []
    with pytest.raises(ValueError, match="labelled"):
        confident_mistakes(_predictions([0], [[1.0, 0.0]]).__class__(None, np.array([0]), np.array([[1.0, 0.0]])))
    with pytest.raises(ValueError, match=r"confident_mistakes\.k must be a positive integer \(>= 1\), got 0"):
        confident_mistakes(p, k=0)


def test_mistakes_grid_plays_the_misclassified_clips_own_audio():
    import base64
    import io
    import re
    import wave

    from course_lib.evaluation import confident_mistakes
    from course_lib.plots import mistakes_grid

    sr = 8000
    g = torch.Generator().manual_seed(0)
    waves = torch.randn(4, sr // 2, generator=g) * 0.1
    waves[2, : sr // 4] = 0.0  # clip 2: silent first half, so its audio is recognisable
    p = _predictions([0, 1, 1, 2], [[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.1, 0.3, 0.6], [0.0, 0.0, 1.0]])
    mistakes = confident_mistakes(p)
    html = mistakes_grid(mistakes, waves, NAMES, sr, notes=["a.wav", "b.wav", "c.wav", "d.wav"],
                         caption="mistakes").data
    assert html.count("<tr>") == 1 + 2
    assert "<th>true class</th><th>predicted (confidence)</th><th>log-mel spectrogram</th>" in html
    assert html.index("rain</b>") < html.index("c.wav")  # first row: rain taken for dog at 80 %
    assert "dog<br><small>80 % sure</small>" in html and "siren<br><small>60 % sure</small>" in html
    players = re.findall(r'src="data:audio/wav;base64,([^"]+)"', html)
    assert len(players) == 2
    with wave.open(io.BytesIO(base64.b64decode(players[1]))) as w:  # second row: clip 2
        assert w.getframerate() == sr and w.getnframes() == sr // 2
        samples = np.frombuffer(w.readframes(sr // 2), dtype=np.int16)
    assert np.all(samples[: sr // 4] == 0) and np.any(samples[sr // 4 :] != 0)
    # a dataset of (waveform, label) items works too, and gives the same table
    pairs = torch.utils.data.TensorDataset(waves, torch.tensor(p.labels))
    assert mistakes_grid(mistakes, pairs, NAMES, sr, notes=["a.wav", "b.wav", "c.wav", "d.wav"],
                         caption="mistakes").data == html
    with pytest.raises(ValueError, match="at least one mistake"):
        mistakes_grid([], waves, NAMES, sr)
    with pytest.raises(ValueError, match="outside the 2 waveforms"):
        mistakes_grid(mistakes, waves[:2], NAMES, sr)
    with pytest.raises(ValueError, match="one note per clip"):
        mistakes_grid(mistakes, waves, NAMES, sr, notes=["x"])
