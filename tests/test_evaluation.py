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
from course_lib.training import History

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
    assert "0.67" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="3 class names"):
        plot_confusion_matrix(np.eye(2), NAMES)
    with pytest.raises(ValueError, match="empty"):
        plot_history(History())
    plt.close("all")
