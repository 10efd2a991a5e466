"""How long ``training_memory`` takes on models whose real training step would need tens of GB.

Each model is built on the meta device (no memory), then ``training_memory`` runs on it
once cold (the first call in the process) and three more times warm; the table shows
seconds and the breakdown.  The issue asks for about a second, and under 2 s for the
GPT-2-XL-sized transformer (1.6 billion parameters, 1024 token ids, batch 1).

Run: ``.venv/bin/python benchmarks/training_memory.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from dlcourse.calc.training_memory import format_bytes, training_memory
from dlcourse.hardware.timing import Stopwatch
from dlcourse.models import resnet50


class GPT2XL(nn.Module):
    """A GPT-2-XL-sized stack: 48 pre-norm blocks of width 1600 with 25 heads, tied 50257-token embedding."""

    def __init__(self, width: int = 1600, layers: int = 48, heads: int = 25, vocabulary: int = 50257,
                 context: int = 1024) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, width)
        self.positions = nn.Embedding(context, width)
        block = nn.TransformerEncoderLayer(width, heads, 4 * width, batch_first=True, norm_first=True,
                                           activation="gelu")
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.head = nn.Linear(width, vocabulary, bias=False)
        self.head.weight = self.tokens.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.tokens(ids) + self.positions.weight[: ids.shape[1]]))


def main() -> None:
    with torch.device("meta"):
        cases: list[tuple[str, Callable[[], nn.Module], tuple[int, ...], torch.dtype]] = [
            ("GPT-2-XL size, 1x1024 token ids", GPT2XL(), (1, 1024), torch.long),
            ("ResNet-50, batch 256 of 3x224x224", resnet50(), (256, 3, 224, 224), torch.float32),
        ]
    for name, model, size, dtype in cases:
        with Stopwatch() as cold:
            memory = training_memory(model, size, optimizer="adam", dtype=dtype)
        warm = []
        for _ in range(3):
            with Stopwatch() as watch:
                training_memory(model, size, optimizer="adam", dtype=dtype)
            warm.append(watch.seconds)
        print(f"{name}: {cold.seconds:.2f} s first call, {min(warm):.2f} s warm; params {memory.params // 4:,}; "
              f"activations {format_bytes(memory.activations)}; total with Adam {format_bytes(memory.total)}")


if __name__ == "__main__":
    main()
