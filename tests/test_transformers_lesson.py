"""The Transformer chapter's language, its entropy, tokeniser, training loop and figures
(dlcourse/lessons/transformers.py)."""

import itertools
import math
import random
from collections import Counter

import pytest
import torch

from dlcourse.lessons import transformers as lesson

# ---------------------------------------------------------------- the language


def every_sentence():
    """Each sentence of the language with its probability, enumerated from the rules of the chapter."""
    singular = [(d, n) for d in ("a", "one", "the") for n in lesson.NOUNS]
    plural = [(d, n + "s") for d in ("two", "some", "the") for n in lesson.NOUNS]
    phrases = [(f"{d} {n}", 0.5 / 18, False) for d, n in singular] + [(f"{d} {n}", 0.5 / 18, True) for d, n in plural]
    for (subject, p_subject, is_plural), verb, (obj, p_object, _) in itertools.product(phrases, lesson.VERBS, phrases):
        yield f"{subject} {verb if is_plural else verb + 's'} {obj}.", p_subject / 5 * p_object


def test_the_entropy_is_that_of_every_sentence_enumerated():
    sentences = dict(every_sentence())
    assert len(sentences) == 36 * 5 * 36                        # every choice gives another string
    assert sum(sentences.values()) == pytest.approx(1.0)
    entropy = -sum(p * math.log(p) for p in sentences.values())
    length = sum(p * (len(s) + 1) for s, p in sentences.items())      # + the space after it
    assert lesson.sentence_entropy() == pytest.approx(entropy, rel=1e-12)
    assert lesson.mean_sentence_length() == pytest.approx(length, rel=1e-12)
    assert lesson.entropy_per_character() == pytest.approx(entropy / length, rel=1e-12)


def test_a_long_corpus_has_the_mean_sentence_length_and_only_sentences_of_the_language():
    text = lesson.corpus(4000, seed=3)
    sentences = [s.strip() + "." for s in text.split(".")[:-1]]
    assert len(sentences) == 4000 and all(map(lesson.is_grammatical, sentences))
    assert (len(text) + 1) / 4000 == pytest.approx(lesson.mean_sentence_length(), rel=0.02)
    numbers = Counter(s.split()[1].endswith("s") for s in sentences)
    assert numbers[True] == pytest.approx(2000, rel=0.1)        # half the subjects are plural


@pytest.mark.parametrize("text, broken", [
    ("a cat sees the dog.", None),
    ("the cats see the dog.", None),
    ("some hens follow one frog.", None),
    ("a cats sees the dog.", "a + plural"),
    ("two cat see the dog.", "two + singular"),
    ("the cats sees the dog.", "plural subject, singular verb"),
    ("the cat see the dog.", "singular subject, plural verb"),
    ("the cat sees a dogs.", "object: a + plural"),
    ("the cat sees the dog", "no full stop"),
    ("the cat sees dog.", "four words"),
    ("the cow sees the dog.", "not a noun"),
    ("the cat eats the dog.", "not a verb"),
    ("the cat sees  the dog.", "two spaces"),
])
def test_is_grammatical_applies_each_rule(text, broken):
    assert lesson.is_grammatical(text) is (broken is None)


def test_grammatical_share_counts_complete_sentences_only():
    assert lesson.grammatical_share("cat. a cat sees a dog. two cat see a dog. a dog sees a cat. the") == (2 / 3, 3)
    assert lesson.grammatical_share("no full stop at all") == (0.0, 0)
    assert lesson.grammatical_share(lesson.corpus(10, seed=1)) == (1.0, 9)   # the first has no start before it


def test_corpus_refuses_an_empty_language():
    with pytest.raises(ValueError, match="sentences must be at least 1"):
        lesson.corpus(0)


# ---------------------------------------------------------------- tokens and windows


def test_char_tokenizer_round_trip_and_errors():
    text = lesson.corpus(20, seed=5)
    tokens = lesson.CharTokenizer.fit(text)
    assert tokens.alphabet == "".join(sorted(set(text)))
    assert tokens.decode(tokens.encode(text)) == text
    with pytest.raises(ValueError, match=r"characters \['!'\] are not in the alphabet"):
        tokens.encode("a cat!")
    with pytest.raises(ValueError, match="not in 0.."):
        tokens.decode([tokens.vocab_size])


def test_windows_are_windows_of_the_text_and_targets_are_the_next_tokens():
    tokens = torch.arange(100) * 7
    x, y = lesson.windows(tokens, 16, 8, torch.Generator().manual_seed(1))
    assert x.shape == y.shape == (8, 16)
    for row, target in zip(x.tolist(), y.tolist()):
        start = row[0] // 7
        assert row == [7 * (start + i) for i in range(16)]
        assert target == [7 * (start + 1 + i) for i in range(16)]


def test_learning_rate_rises_then_follows_half_a_cosine_to_zero():
    factors = [lesson.learning_rate_factor(step, 100, 10) for step in range(101)]
    assert factors[:10] == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert factors[10] == 1.0 and factors[55] == pytest.approx(0.5) and factors[100] == pytest.approx(0.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert lesson.learning_rate_factor(0, 10, 0) == 1.0


def test_perplexity_is_the_exponential_of_the_loss():
    assert lesson.perplexity(0.0) == 1.0
    assert lesson.perplexity(math.log(20)) == pytest.approx(20)


# ---------------------------------------------------------------- training and sampling


@pytest.fixture(scope="module")
def small_run():
    train = lesson.corpus(300, seed=10)
    validation = lesson.corpus(40, seed=11)
    return lesson.train_language_model(train, validation, steps=60, context=16, n_layers=1, d_model=16, n_heads=2,
                                       batch_size=16, lr=1e-2, warmup=5, eval_every=20, seed=4, progress=False)


def test_training_lowers_the_loss_and_records_every_evaluation(small_run):
    assert small_run.steps == [0, 20, 40, 60]
    assert len(small_run.train_loss) == len(small_run.validation_loss) == 4
    vocab = small_run.tokenizer.vocab_size
    assert small_run.validation_loss[0] == pytest.approx(math.log(vocab), rel=0.05)   # untrained: even guesses
    assert small_run.validation_loss[-1] < 0.8 * small_run.validation_loss[0]
    assert small_run.samples_before.startswith("the ") and len(small_run.samples_before) == 4 + 120


def test_training_is_deterministic_for_a_seed(small_run):
    again = lesson.train_language_model(lesson.corpus(300, seed=10), lesson.corpus(40, seed=11), steps=60, context=16,
                                        n_layers=1, d_model=16, n_heads=2, batch_size=16, lr=1e-2, warmup=5,
                                        eval_every=20, seed=4, progress=False)
    assert again.validation_loss == small_run.validation_loss
    assert again.samples_before == small_run.samples_before


def test_evaluate_is_the_mean_cross_entropy_of_the_windows(small_run):
    text = lesson.corpus(40, seed=11)
    tokens = torch.tensor(small_run.tokenizer.encode(text))
    model = small_run.model
    with torch.no_grad():
        losses = []
        for start in range(0, len(tokens) - 16 - 1, 16):
            logits = model(tokens[start:start + 16][None])[0]
            losses.append(torch.nn.functional.cross_entropy(logits, tokens[start + 1:start + 17], reduction="sum"))
    count = 16 * len(losses)
    assert lesson.evaluate(model, tokens, 16) == pytest.approx(float(sum(losses)) / count, rel=1e-5)
    assert model.training                                       # evaluate leaves the mode as it found it


def test_sampling_is_seeded_and_greedy_sampling_is_the_argmax(small_run):
    model, tokens = small_run.model, small_run.tokenizer
    assert lesson.sample(model, tokens, "the ", 30, seed=3) == lesson.sample(model, tokens, "the ", 30, seed=3)
    greedy = lesson.sample(model, tokens, "the ", 10, greedy=True)
    idx = torch.tensor([tokens.encode("the ")])
    with torch.no_grad():
        for _ in range(10):
            idx = torch.cat([idx, model(idx[:, -16:])[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert greedy == tokens.decode(idx[0].tolist())


def test_training_refuses_no_steps():
    with pytest.raises(ValueError, match="steps and eval_every must be at least 1"):
        lesson.train_language_model("a cat sees a dog.", "a cat sees a dog.", steps=0)


# ---------------------------------------------------------------- figures


def test_loss_curves_figure_draws_medians_bands_and_the_floor(small_run):
    fig = lesson.loss_curves_figure({"pre-LN": [small_run, small_run]}, floor=0.36)
    left, right = fig.axes
    assert [line.get_label() for line in left.lines] == ["pre-LN (median of 2 seeds)", "entropy of the language"]
    assert list(left.lines[0].get_ydata()) == pytest.approx(small_run.train_loss)
    assert list(right.lines[1].get_ydata()) == [0.36, 0.36]
    assert len(left.collections) == 1
    with pytest.raises(ValueError, match="at least one named set"):
        lesson.loss_curves_figure({})


def test_attention_maps_figure_has_one_panel_per_head_and_checks_its_input(small_run):
    text = "a cat sees a dog"                   # 16 characters, the context
    with torch.no_grad():
        maps = small_run.model.attention_maps(torch.tensor([small_run.tokenizer.encode(text)]))
    fig = lesson.attention_maps_figure(maps, text)
    assert [ax.get_title() for ax in fig.axes] == ["head 1", "head 2"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][:3] == ["a", "␣", "c"]
    with pytest.raises(ValueError, match="maps must be"):
        lesson.attention_maps_figure(maps, text[:-1])
    with pytest.raises(ValueError, match="maps must be"):
        lesson.attention_maps_figure(maps, text, layer=1)


def test_sentence_draws_from_the_word_lists():
    rng = random.Random(0)
    words = [lesson.sentence(rng).split() for _ in range(200)]
    assert {w[0] for w in words} == {"a", "one", "the", "two", "some"}
    assert {w[2].rstrip("s") for w in words} == set(lesson.VERBS)


def test_grammar_of_samples_pools_the_sentences_of_a_batch_of_samples(small_run):
    model, tokens = small_run.model, small_run.tokenizer
    share, count = lesson.grammar_of_samples(model, tokens, 0.7, count=3, length=40, seed=2)
    generator = torch.Generator().manual_seed(2)
    out = model.generate(torch.tensor([tokens.encode("the ")] * 3), 40, temperature=0.7, generator=generator)
    texts = [tokens.decode(row.tolist()) for row in out]
    pieces = [lesson.grammatical_share(text) for text in texts]
    assert count == sum(n for _, n in pieces)
    good = sum(sum(map(lesson.is_grammatical, [p.strip() + "." for p in t.split(".")[1:-1] if p.strip()]))
               for t in texts)
    assert share == pytest.approx(good / count if count else 0.0)
