"""One line of facts per model: computed sizes and costs next to what was published.

The models, their input sizes and their published accuracies are those of the registry
(``dlcourse.models.registry.MODELS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlcourse.calc import summarize
from dlcourse.models.registry import MODELS, model_info


@dataclass(frozen=True)
class Card:
    key: str
    name: str
    input_shape: tuple[int, int, int]
    params: int
    macs: int
    activations_batch1_bytes: int
    activations_batch64_bytes: int
    top1: float | None
    top1_source: str = ""


def card(key: str) -> Card:
    """Parameters, MACs and float32 activation memory (input included) at batch 1 and 64."""
    from dlcourse.models import build

    info = model_info(key)
    model = build(key, device="meta")
    one = summarize(model, (1, *info.input_shape))
    many = summarize(model, (64, *info.input_shape))
    return Card(key, info.name, info.input_shape, one.params, one.macs,
                one.memory_bytes(include_params=False), many.memory_bytes(include_params=False), info.top1,
                info.top1_source)


def cards() -> list[Card]:
    """A card for every model, oldest first."""
    return [card(key) for key in MODELS]
