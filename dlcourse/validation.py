"""Checks of the arguments people give: one place for the course's rule on whole numbers.

An int, never a bool (``True`` is an int in Python, and never what a caller meant by a count);
NumPy's integers count as ints.  A wrong value raises ``ValueError`` naming the argument, what was
expected and what was given.
"""

from __future__ import annotations

import numbers


def checked_int(name: str, value: object, minimum: int = 1, unit: str = "") -> int:
    """``value`` as an int if it is a whole number of at least ``minimum``; otherwise ``ValueError``.

    ``unit`` says what the number counts, in the message: "(bytes)".

    >>> checked_int("batch_size", 64)
    64
    >>> checked_int("steps", 0, minimum=0)
    0
    >>> checked_int("batch_size", True)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be a positive int, got True
    >>> checked_int("memory_bytes", 2.5, unit="bytes")
    Traceback (most recent call last):
    ...
    ValueError: memory_bytes must be a positive int (bytes), got 2.5
    >>> checked_int("steps", -1, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: steps must be an int >= 0, got -1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        counted = f" ({unit})" if unit else ""
        raise ValueError(f"{name} must be {expected}{counted}, got {value!r}")
    return int(value)
