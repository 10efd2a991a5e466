"""The attention chapter's task, models, training loop, alignments, figures and explorer."""

import pytest
import torch
from matplotlib.figure import Figure

from dlcourse.lessons import attention as seq2seq
from dlcourse.lessons.attention import PAD, Seq2Seq, reversal_task


def test_reversal_task_is_correct_by_construction():
    data = reversal_task(200, min_length=2, max_length=9, seed=3)
    assert data.source.shape == data.target.shape == (200, 9)
    assert int(data.lengths.min()) >= 2 and int(data.lengths.max()) <= 9
    for source, target, length in zip(data.source.tolist(), data.target.tolist(), data.lengths.tolist()):
        digits = source[:length]
        assert all(2 <= t <= 11 for t in digits)                    # digits are tokens 2..11
        assert source[length:] == [0] * (9 - length) == target[length:]
        assert target[:length] == digits[::-1]                     # written backwards
    # teacher forcing: start token, then the target shifted right
    assert data.decoder_input()[:, 0].eq(1).all()
    assert torch.equal(data.decoder_input()[:, 1:], data.target[:, :-1])
    assert data.labels()[data.target == PAD].eq(-100).all()
    assert seq2seq.to_text(data.source[0]).replace(" ", "") == "".join(
        str(t - 2) for t in data.source[0].tolist() if t)


def test_reversal_task_is_deterministic_and_uses_every_length():
    a, b = reversal_task(500, 1, 6, seed=7), reversal_task(500, 1, 6, seed=7)
    assert torch.equal(a.source, b.source) and torch.equal(a.lengths, b.lengths)
    assert not torch.equal(a.source, reversal_task(500, 1, 6, seed=8).source)
    assert sorted(set(a.lengths.tolist())) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("args, message", [
    ((0, 1, 3), "n must be at least 1"),
    ((5, 0, 3), "1 <= min_length <= max_length"),
    ((5, 4, 3), "min_length=4, max_length=3"),
])
def test_reversal_task_refuses_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        reversal_task(*args)


@pytest.mark.parametrize("score", [None, *seq2seq.SCORES])
def test_model_shapes(score):
    torch.manual_seed(0)
    model = Seq2Seq(hidden=8, embedding=4, score=score)
    data = reversal_task(5, 1, 6, seed=0)
    logits, weights = model(data.source, data.decoder_input())
    assert logits.shape == (5, 6, seq2seq.VOCAB)
    predicted, greedy_weights = model.greedy(data.source, steps=4)
    assert predicted.shape == (5, 4)
    if score is None:
        assert weights is None and greedy_weights is None
    else:
        assert weights.shape == (5, 6, 6) and greedy_weights.shape == (5, 4, 6)


def test_model_refuses_bad_input():
    model = Seq2Seq(hidden=4, score="dot")
    with pytest.raises(ValueError, match="unknown score function 'bilinear'"):
        Seq2Seq(hidden=4, score="bilinear")
    with pytest.raises(ValueError, match="padding .* must come after the digits"):
        model.encode(torch.tensor([[3, 0, 4]]))
    with pytest.raises(ValueError, match="all padding"):
        model.encode(torch.tensor([[3, 4], [0, 0]]))
    with pytest.raises(ValueError, match=r"source must have shape \(B, Ts\)"):
        model.encode(torch.tensor([3, 4]))
    with pytest.raises(ValueError, match="no attention"):
        seq2seq.alignments(Seq2Seq(hidden=4), torch.tensor([[3, 4]]))


def check_weights(model):
    batch = torch.tensor([[2, 3, 4, 5, 6], [7, 8, 0, 0, 0], [9, 10, 11, 0, 0]])
    predicted, weights = seq2seq.alignments(model, batch)
    assert torch.allclose(weights.sum(dim=-1), torch.ones(3, 5), atol=1e-6)
    assert weights[1, :, 2:].eq(0).all() and weights[2, :, 3:].eq(0).all()   # exactly zero at padding
    # the padded string decodes as it does alone
    alone_predicted, alone = seq2seq.alignments(model, batch[1:2, :2])
    assert torch.allclose(weights[1, :2, :2], alone[0], atol=1e-6)
    assert torch.equal(predicted[1, :2], alone_predicted[0])


@pytest.mark.parametrize("score", seq2seq.SCORES)
def test_untrained_weights_sum_to_one_and_ignore_padding(score):
    torch.manual_seed(1)
    check_weights(Seq2Seq(hidden=8, score=score))


@pytest.mark.parametrize("score", [None, "additive"])
def test_both_gru_implementations_give_the_same_model(score):
    """The chapter trains with torch.nn.GRU for speed: the model must be the one written from scratch."""
    torch.manual_seed(0)
    ours = Seq2Seq(hidden=8, score=score, implementation="dlcourse")
    theirs = Seq2Seq(hidden=8, score=score, implementation="torch")
    assert isinstance(theirs.encoder, torch.nn.GRU) and not isinstance(ours.encoder, torch.nn.GRU)
    theirs.load_state_dict(ours.state_dict())
    data = reversal_task(5, 2, 6, seed=3)
    for a, b in zip(ours(data.source, data.decoder_input()), theirs(data.source, data.decoder_input())):
        assert (a is None and b is None) or torch.allclose(a, b, atol=1e-6)
    assert torch.equal(ours.greedy(data.source)[0], theirs.greedy(data.source)[0])
    with pytest.raises(ValueError, match="implementation"):
        Seq2Seq(hidden=8, implementation="cudnn")


def test_training_is_deterministic_and_weights_of_the_trained_model_behave():
    train, test = reversal_task(300, 1, 5, seed=0), reversal_task(60, 1, 5, seed=1)
    first = seq2seq.train_reversal("general", train, test, epochs=3, hidden=16, progress=False)
    second = seq2seq.train_reversal("general", train, test, epochs=3, hidden=16, progress=False)
    assert len(first.train_loss) == len(first.test_accuracy) == 3
    assert first.train_loss == second.train_loss and first.test_accuracy == second.test_accuracy
    assert first.train_loss[-1] < first.train_loss[0]
    assert sorted(first.by_length) == [1, 2, 3, 4, 5]
    check_weights(first.model)
    # the recorded accuracy is the digit accuracy computed here independently
    predicted, _ = first.model.greedy(test.source)
    real = test.target != PAD
    expected = ((predicted == test.target) & real).sum().item() / real.sum().item()
    assert first.test_accuracy[-1] == pytest.approx(expected)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        seq2seq.train_reversal(None, train, test, epochs=0)


def test_accuracy_by_length_counts_digits_and_whole_strings():
    class Fixed(Seq2Seq):
        def greedy(self, source, steps=None):
            return self.answer, None

    data = reversal_task(4, 2, 2, seed=0)
    model = Fixed(hidden=4)
    model.answer = data.target.clone()
    model.answer[0, 1] = 2 if data.target[0, 1] != 2 else 3        # one wrong digit in string 0
    digits, strings = seq2seq.accuracy_by_length(model, data)[2]
    assert digits == pytest.approx(7 / 8) and strings == pytest.approx(3 / 4)


def test_anti_diagonal_share():
    weights = torch.zeros(1, 3, 3)
    weights[0, 0, 2], weights[0, 1, 1], weights[0, 2] = 1.0, 1.0, torch.tensor([0.2, 0.5, 0.3])
    share, hits = seq2seq.anti_diagonal_share(weights, torch.tensor([3]))
    assert share == pytest.approx((1 + 1 + 0.2) / 3) and hits == pytest.approx(2 / 3)


def test_score_statistics_follow_sqrt_d():
    stats = seq2seq.score_statistics([4, 256], keys=10, samples=3000, seed=0)
    assert stats["std"][0] == pytest.approx(2, rel=0.05) and stats["std"][1] == pytest.approx(16, rel=0.05)
    assert stats["std_scaled"] == pytest.approx([1, 1], rel=0.05)
    assert stats["max_weight"][1] > 0.8 > stats["max_weight_scaled"][1]
    with pytest.raises(ValueError, match="keys >= 2"):
        seq2seq.score_statistics([4], keys=1)


def test_attention_macs_match_the_formula():
    lengths, embed = [8, 100], 32
    assert seq2seq.attention_macs(lengths, embed_dim=embed, num_heads=4) == [
        4 * t * embed ** 2 + 2 * t * t * embed for t in lengths]
    with pytest.raises(ValueError, match="lengths must be positive"):
        seq2seq.attention_macs([0])


def test_figures_have_labelled_axes_and_refuse_bad_input():
    fig = seq2seq.alignment_figure(torch.eye(3).flip(1), [2, 3, 4, 0], [4, 3, 2])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2", "1", "0"]
    assert ax.get_ylabel() == "output digit (decoder step)"
    with pytest.raises(ValueError, match="weights must be"):
        seq2seq.alignment_figure(torch.eye(2), [2, 3, 4], [2, 3, 4])
    cost = seq2seq.cost_figure([10, 100], [1e5, 1e7], embed_dim=16)
    assert cost.axes[0].get_yscale() == "log" and cost.axes[0].get_xlabel().startswith("sequence length")
    with pytest.raises(ValueError, match="equally long"):
        seq2seq.cost_figure([10], [1, 2], embed_dim=16)
    with pytest.raises(ValueError, match="at least one model"):
        seq2seq.accuracy_by_length_figure({})


def test_temperature_flattens_the_weights_and_is_restored():
    torch.manual_seed(0)
    model = Seq2Seq(hidden=8, score="dot")
    source = torch.tensor([[2, 5, 9, 4]])
    states, _, mask = model.encode(source)
    model.temperature = 1e6                  # scores / 1e6 are all about 0: uniform weights over 4 keys
    _, uniform = model._scores_to_weights(states[:, :2], states, mask)
    assert torch.allclose(uniform, torch.full_like(uniform, 0.25), atol=1e-4)
    model.temperature = 1.0
    seq2seq.attention_weights_figure(model, source, 0, temperature=5.0)
    assert model.temperature == 1.0
    with pytest.raises(ValueError, match="temperature must be positive"):
        seq2seq.attention_weights_figure(model, source, 0, temperature=0)
    with pytest.raises(ValueError, match=r"example must be in \[0, 0\]"):
        seq2seq.attention_weights_figure(model, source, 1)


def test_attention_explorer_is_a_figure_in_the_book_and_widgets_otherwise(monkeypatch):
    import ipywidgets

    from dlcourse.lessons.attention import attention_explorer

    torch.manual_seed(0)
    model = Seq2Seq(hidden=8, score="additive")
    source = reversal_task(4, 2, 5, seed=0).source
    monkeypatch.setenv("DLCOURSE_BOOK_BUILD", "1")
    fig = attention_explorer(model, source, example=2)
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_title().startswith(f"in {seq2seq.to_text(source[2])} ->")
    monkeypatch.delenv("DLCOURSE_BOOK_BUILD")
    box = attention_explorer(model, source)
    assert isinstance(box, ipywidgets.VBox)
    example, temperature = box.children[0].children
    assert (example.value, example.max, temperature.value) == (0, 3, 1.0)
    example.value = 3                        # redraws without error
    with pytest.raises(ValueError, match="no attention"):
        attention_explorer(Seq2Seq(hidden=8), source)
