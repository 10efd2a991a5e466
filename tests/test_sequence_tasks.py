"""The recurrent chapter's data, classifier, training loop and figures (dlcourse.lessons.recurrent)."""

import math

import pytest
import torch
from matplotlib.figure import Figure

from dlcourse.lessons.recurrent import (
    SequenceClassifier,
    SequenceRun,
    first_symbol_task,
    gradient_norms_figure,
    lstm_cell_figure,
    sequence_curves_figure,
    train_sequence_models,
    unrolled_rnn_figure,
)
from dlcourse.training import accuracy, error_rate, predictions


def test_first_symbol_task_shapes_and_labels_by_construction():
    x, y = first_symbol_task(50, 7, symbols=3, distractors=5, seed=2)
    assert x.shape == (50, 7, 8) and y.shape == (50,) and y.dtype == torch.long
    assert torch.equal(x.sum(dim=2), torch.ones(50, 7))            # one-hot at every step
    tokens = x.argmax(dim=2)
    assert torch.equal(tokens[:, 0], y)                             # the label is the first symbol
    assert bool(((tokens[:, 1:] >= 3) & (tokens[:, 1:] < 8)).all())  # the rest are distractors only
    assert set(y.tolist()) <= {0, 1, 2}


def test_first_symbol_task_labels_are_balanced_and_the_rest_carries_no_label():
    x, y = first_symbol_task(4000, 6, symbols=4, distractors=4, seed=0)
    counts = torch.bincount(y, minlength=4).float() / 4000
    assert torch.allclose(counts, torch.full((4,), 0.25), atol=0.03)
    # the distractor at step 3 is independent of the label: same distribution for every label
    tokens = x.argmax(dim=2)[:, 3]
    for label in range(4):
        share = torch.bincount(tokens[y == label] - 4, minlength=4).float() / (y == label).sum()
        assert torch.allclose(share, torch.full((4,), 0.25), atol=0.06)


def test_first_symbol_task_is_deterministic_with_a_seed():
    a = first_symbol_task(20, 5, seed=3)
    b = first_symbol_task(20, 5, seed=3)
    c = first_symbol_task(20, 5, seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("arguments, message", [
    (dict(n_sequences=0, length=5), "n_sequences"),
    (dict(n_sequences=3, length=1), "length must be at least 2"),
    (dict(n_sequences=3, length=5, symbols=1), "symbols must be at least 2"),
    (dict(n_sequences=3, length=5, distractors=0), "distractors"),
    (dict(n_sequences=3, length=2.5), "length"),
])
def test_first_symbol_task_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        first_symbol_task(**arguments)


@pytest.mark.parametrize("kind, gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_classifier_parameters_and_keep_bias(kind, gates):
    model = SequenceClassifier(kind, input_size=6, hidden_size=5, classes=3, keep_bias=1.5)
    expected = gates * (5 * (6 + 5) + 2 * 5) + 5 * 3 + 3              # two bias vectors per gate block, then the head
    assert sum(p.numel() for p in model.parameters()) == expected
    assert model(torch.zeros(4, 9, 6)).shape == (4, 3)
    if kind != "rnn":                                                # the keep gate is the second block: rows 5..9
        torch.manual_seed(0)
        plain = SequenceClassifier(kind, 6, 5, 3, keep_bias=0.0)
        torch.manual_seed(0)
        shifted = SequenceClassifier(kind, 6, 5, 3, keep_bias=1.5)
        difference = shifted.recurrent.bias_ih_l0 - plain.recurrent.bias_ih_l0
        assert torch.allclose(difference[5:10], torch.full((5,), 1.5))
        assert torch.allclose(difference[:5], torch.zeros(5))
        assert torch.allclose(difference[10:], torch.zeros(len(difference) - 10))


def test_the_keep_gate_is_the_forget_gate_of_the_lstm():
    """With a huge keep bias the LSTM's cell state and the GRU's hidden state barely change."""
    torch.manual_seed(0)
    gru = SequenceClassifier("gru", 4, 3, 2, keep_bias=50.0).recurrent
    h0 = torch.randn(1, 2, 3)
    _, h = gru(torch.randn(2, 5, 4), h0)
    assert torch.allclose(h, h0, atol=1e-6)                          # z = 1: keep the old state
    lstm = SequenceClassifier("lstm", 4, 3, 2, keep_bias=50.0).recurrent
    c0 = torch.randn(1, 2, 3)
    with torch.no_grad():                                            # close the input gate too: c_T = c_0
        lstm.bias_ih_l0[:3] -= 50.0
    _, (_, c) = lstm(torch.randn(2, 5, 4), (torch.zeros(1, 2, 3), c0))
    assert torch.allclose(c, c0, atol=1e-6)


def test_our_layers_and_torch_layers_give_the_same_classifier_outputs():
    torch.manual_seed(0)
    theirs = SequenceClassifier("lstm", 8, 6, 4)
    ours = SequenceClassifier("lstm", 8, 6, 4, implementation="dlcourse")
    ours.load_state_dict(theirs.state_dict())
    x, _ = first_symbol_task(5, 7)
    assert torch.allclose(ours(x), theirs(x), atol=1e-6)


def test_classifier_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        SequenceClassifier("transformer", 3, 4, 2)
    with pytest.raises(ValueError, match="implementation"):
        SequenceClassifier("rnn", 3, 4, 2, implementation="keras")
    with pytest.raises(ValueError, match="hidden_size"):
        SequenceClassifier("rnn", 3, 0, 2)


def test_accuracy_counts_matches():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 5.0]])
    assert accuracy(torch.nn.Identity(), logits, torch.tensor([0, 1, 1, 0])) == 0.5
    assert error_rate(torch.nn.Identity(), logits, torch.tensor([0, 1, 1, 1])) == 0.25


def test_predictions_are_made_in_evaluation_mode_without_gradients():
    model = torch.nn.Sequential(torch.nn.Dropout(0.99), torch.nn.Identity()).train()
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]], requires_grad=True)
    predicted = predictions(model, logits)
    assert predicted.tolist() == [0, 1] and not predicted.requires_grad   # dropout off: the logits as they are
    assert not model.training


def test_training_returns_curves_of_the_right_length_and_is_deterministic():
    settings = dict(kinds=("rnn", "gru"), length=5, hidden_size=6, epochs=3, n_train=48, n_test=24,
                    batch_size=16, progress=False)
    first = train_sequence_models(**settings)
    second = train_sequence_models(**settings)
    assert list(first) == ["rnn", "gru"]
    for kind in first:
        assert len(first[kind].train_loss) == len(first[kind].test_accuracy) == 3
        assert first[kind].train_loss == second[kind].train_loss
        assert first[kind].test_accuracy == second[kind].test_accuracy
        assert all(0 <= a <= 1 for a in first[kind].test_accuracy)
        assert all(math.isfinite(loss) for loss in first[kind].train_loss)
    assert first["gru"].parameters == 3 * (6 * (8 + 6) + 12) + 6 * 4 + 4


def test_training_learns_a_short_task():
    runs = train_sequence_models(("lstm",), length=3, hidden_size=8, epochs=8, n_train=128, n_test=64,
                                 batch_size=16, progress=False)
    assert runs["lstm"].test_accuracy[-1] == 1.0                      # two steps to remember: easy
    assert runs["lstm"].train_loss[-1] < runs["lstm"].train_loss[0] / 4


def test_training_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kinds"):
        train_sequence_models(kinds=(), progress=False)
    with pytest.raises(ValueError, match="epochs"):
        train_sequence_models(epochs=0, progress=False)
    with pytest.raises(ValueError, match="lr"):
        train_sequence_models(lr=0.0, progress=False)


def test_progress_bar_prints_its_final_state_in_the_book_build(monkeypatch, capsys):
    monkeypatch.setenv("DLCOURSE_BOOK_BUILD", "1")
    train_sequence_models(("rnn",), length=3, hidden_size=2, epochs=2, n_train=8, n_test=8, batch_size=8)
    out = capsys.readouterr().out
    assert "RNN" in out and "2/2" in out


def _labelled(fig):
    return all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


def test_curves_figure_draws_every_seed_in_two_labelled_panels_with_a_chance_line():
    runs = {k: [SequenceRun(k, [1.0, 0.5, 0.2], [0.3, 0.6, 0.9], 0.1, 10),
                SequenceRun(k, [1.0, 0.9, 0.9], [0.2, 0.25, 0.25], 0.1, 10)] for k in ("rnn", "lstm")}
    fig = sequence_curves_figure(runs, chance=0.25)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 and _labelled(fig)
    left, right = fig.axes
    assert len(left.lines) == 4 and len(right.lines) == 5           # 2 kinds x 2 seeds, and chance
    assert list(right.lines[0].get_ydata()) == [30.0, 60.0, 90.0]
    assert list(right.lines[1].get_ydata()) == [20.0, 25.0, 25.0]
    assert list(right.lines[-1].get_ydata()) == [25.0, 25.0]
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["RNN (2 seeds)", "LSTM (2 seeds)", "chance"]
    with pytest.raises(ValueError, match="at least one run"):
        sequence_curves_figure({})
    with pytest.raises(ValueError, match="at least one run"):
        sequence_curves_figure({"rnn": []})


def test_gradient_norms_figure_plots_against_distance_on_a_log_axis():
    fig = gradient_norms_figure({"a": [0.125, 0.25, 0.5, 1.0], "b": [8.0, 4.0, 2.0, 1.0]})
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and _labelled(fig) and ax.get_yscale() == "log"
    assert list(ax.lines[1].get_xdata()) == [3, 2, 1, 0] and list(ax.lines[1].get_ydata()) == [8.0, 4.0, 2.0, 1.0]
    with pytest.raises(ValueError, match="at least one curve"):
        gradient_norms_figure({})


def test_diagrams_are_figures_with_their_labels():
    unrolled = unrolled_rnn_figure(3)
    texts = [t.get_text() for t in unrolled.axes[0].texts]
    assert isinstance(unrolled, Figure)
    assert sum(t in {"$x_{0}$", "$x_{1}$", "$x_{2}$"} for t in texts) == 3 and texts.count("W") == 4
    cell = lstm_cell_figure()
    names = {t.get_text() for t in cell.axes[0].texts}
    assert {"forget gate f", "input gate i", "candidate g", "output gate o", "$c_t$", "$h_t$"} <= names
    with pytest.raises(ValueError, match="steps"):
        unrolled_rnn_figure(0)


def test_training_restores_the_number_of_threads():
    before = torch.get_num_threads()
    train_sequence_models(("rnn",), length=3, hidden_size=2, epochs=1, n_train=8, n_test=8, progress=False, threads=1)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        train_sequence_models(threads=0, progress=False)
