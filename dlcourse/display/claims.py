"""Sentences of the book that read a measurement made while the book is built.

A chapter that measures the machine it runs on (a speed, a training run) must not print a
sentence that its own numbers contradict, on whatever machine builds it.  So every such
sentence is handled in one of two ways, in the chapter's hidden cells:

- ``choose`` (or ``glue_sentence``): the data picks (or writes) the sentence.  It comes in
  both editions' languages; the English one is glued as ``key`` and the Vietnamese one as
  ``key_vi``, and the prose pastes them with ``{glue:text}`key``` (the Vietnamese catalogue
  with ``{glue:text}`key_vi```).
- ``check``: the sentence stays in the prose, and the build stops with a ``ClaimError``
  when this build's measurement contradicts it, instead of printing a false sentence.

``tests/test_claims.py`` lists every check and choice per chapter and holds each one to a
sentence of its page.

>>> check("the LSTM beats the plain RNN", 0.98 > 0.27, "LSTM 98 %, RNN 27 %")
>>> check("the LSTM beats the plain RNN", 0.20 > 0.27, "LSTM 20 %, RNN 27 %")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
dlcourse.display.claims.ClaimError: the page says "the LSTM beats the plain RNN", but this build measured LSTM 20 %, ...
>>> choose("speed", 3.0 > 1.0, ("faster", "nhanh hơn"), ("slower", "chậm hơn"))
('faster', 'nhanh hơn')
"""

from __future__ import annotations

import numpy as np


class ClaimError(AssertionError):
    """A sentence of the page is false for the measurement this build made."""


def check(claim: str, holds: object, measured: str) -> None:
    """Stop the build when ``holds`` is false: the page's sentence ``claim`` would be false here.

    ``claim`` quotes the words of the page that the measurement must bear out (the test finds
    them in the chapter's prose); ``measured`` says what this build measured, for the message.
    """
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError(f"claim must quote the page's sentence (a non-empty str), got {claim!r}")
    if not isinstance(holds, (bool, np.bool_)):
        raise ValueError(f"holds must be a bool (the comparison that bears the claim out), got {holds!r}")
    if not holds:
        raise ClaimError(f'the page says "{claim}", but this build measured {measured}: change the experiment, '
                         f"or let the data choose the sentence (dlcourse.display.claims.choose)")


def choose(key: str, holds: object, if_true: tuple[str, str], if_false: tuple[str, str]) -> tuple[str, str]:
    """Pick the sentence the data supports and glue it for both editions (``glue_sentence``).

    ``if_true`` and ``if_false`` are (English, Vietnamese) pairs, already filled with the
    measured numbers.  Returns the chosen pair.
    """
    if not isinstance(holds, (bool, np.bool_)):
        raise ValueError(f"holds must be a bool (the comparison that picks the sentence), got {holds!r}")
    for name, pair in (("if_true", if_true), ("if_false", if_false)):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"{name} must be an (English, Vietnamese) pair of sentences, got {pair!r}")
    return glue_sentence(key, *(if_true if holds else if_false))


def glue_sentence(key: str, english: str, vietnamese: str) -> tuple[str, str]:
    """Glue a sentence the data wrote: ``key`` for the English page, ``key_vi`` for the Vietnamese one.

    In a notebook kernel (the book's build, or Jupyter) both are glued; outside one, as in a
    doctest, there is no page to glue them to.  Returns (english, vietnamese).

    >>> glue_sentence("reading", "3 of 5 seeds", "3 trên 5 seed")
    ('3 of 5 seeds', '3 trên 5 seed')
    """
    if not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"key must be a glue name (letters, digits, _), got {key!r}")
    for name, text in (("english", english), ("vietnamese", vietnamese)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {name} sentence must be a non-empty str, got {text!r}")
    from IPython import get_ipython

    if get_ipython() is not None:
        from myst_nb import glue

        glue(key, english, display=False)
        glue(f"{key}_vi", vietnamese, display=False)
    return english, vietnamese
