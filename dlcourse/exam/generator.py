"""A random but valid exam in the style of the seed exam, and its answers computed with dlcourse.calc.

The same seed always gives the same exam.  Every generated network is one PyTorch accepts
(pooling padding at most half the kernel), so the tests can check it against PyTorch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, List, Tuple

from dlcourse import calc

AUGMENTATIONS = [  # (English, Vietnamese)
    ("a left-right flip", "lật đối xứng trái/phải"),
    ("an up-down flip", "lật đối xứng trên/dưới"),
    ("a 45° rotation to the right", "xoay phải 45°"),
    ("a 45° rotation to the left", "xoay trái 45°"),
    ("a 90° rotation", "xoay 90°"),
    ("a brightness change", "thay đổi độ sáng"),
]
PLACES = [  # two classes to tell apart: (English, Vietnamese)
    (("Hoan Kiem Lake", "Hồ Gươm"), ("West Lake", "Hồ Tây")),
    (("a cat", "mèo"), ("a dog", "chó")),
    (("Ha Long Bay", "Vịnh Hạ Long"), ("Phong Nha cave", "Động Phong Nha")),
    (("a motorbike", "xe máy"), ("a bicycle", "xe đạp")),
]


@dataclass(frozen=True)
class ConvLayer:
    filters: int
    kernel: int
    stride: int
    padding: int
    activation: str


@dataclass(frozen=True)
class PoolLayer:
    kind: str  # "max" or "avg"
    kernel: int
    stride: int
    padding: int


@dataclass(frozen=True)
class FcLayer:
    units: int
    activation: str


@dataclass
class Exam:
    """Everything an exam states; ``answers()`` computes the key."""

    seed: int
    images: int
    crops_per_image: int
    crop_size: int
    augmentations: List[Tuple[str, str]]
    classes: Tuple[Tuple[str, str], Tuple[str, str]]
    layers: List[object]
    batch_size: int
    epochs: int
    learning_rate: float
    logits: Tuple[float, float]
    big_image: Tuple[int, int]
    bytes_per_value: int = 4

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        return (3, self.crop_size, self.crop_size)

    def network(self) -> calc.Network:
        return calc.Network(self.input_shape, to_calc_layers(self.layers))

    def answers(self) -> Dict[str, object]:
        """The complete key, every number from dlcourse.calc."""
        net = self.network()
        crops = calc.augmented_count(self.images, self.crops_per_image)
        samples = calc.augmented_count(self.images, self.crops_per_image, len(self.augmentations))
        cost = calc.training_cost(net.macs, self.batch_size, samples, self.epochs, backward_factor=1.0)
        grad = calc.softmax_cross_entropy_grad(list(self.logits), 0)
        probabilities = calc.softmax(list(self.logits))
        tiles = (self.big_image[0] // self.crop_size) * (self.big_image[1] // self.crop_size)
        return {
            "crops": crops,
            "samples": samples,
            "dataset_bytes": samples * self.crop_size * self.crop_size * 3,
            "rows": [(row.name, row.output_shape, row.params, row.macs) for row in net.rows],
            "params": net.params,
            "macs": net.macs,
            "flops": net.flops,
            "per_batch_macs": cost.per_batch,
            "iterations": cost.iterations_per_epoch,
            "per_epoch_macs": cost.per_epoch,
            "total_macs": cost.total,
            "probabilities": [round(float(p), 4) for p in probabilities],
            "gradient": [round(float(g), 4) for g in grad],
            "next_logit_1": round(self.logits[1] - self.learning_rate * float(grad[1]), 4),
            "activation_bytes": net.memory_bytes(self.bytes_per_value, include_params=False),
            "total_bytes": net.memory_bytes(self.bytes_per_value),
            "tiles": tiles,
            "big_image_macs": tiles * net.macs,
        }


def to_calc_layers(layers: List[object]) -> List[calc.Layer]:
    """The exam's layers as dlcourse.calc specs (a Flatten before the first FC layer)."""
    specs: List[calc.Layer] = []
    for layer in layers:
        if isinstance(layer, ConvLayer):
            specs.append(calc.Conv2d(layer.filters, layer.kernel, layer.stride, layer.padding, activation=layer.activation))
        elif isinstance(layer, PoolLayer):
            cls = calc.MaxPool2d if layer.kind == "max" else calc.AvgPool2d
            specs.append(cls(layer.kernel, layer.stride, layer.padding))
        else:
            if not any(isinstance(s, calc.Flatten) for s in specs):
                specs.append(calc.Flatten())
            specs.append(calc.Linear(layer.units, activation=layer.activation))
    return specs


def generate(seed: int) -> Exam:
    """The exam for ``seed``: same seed, same exam."""
    rng = random.Random(seed)
    while True:
        crop = rng.choice([64, 96, 128, 160])
        layers = [
            ConvLayer(rng.choice([8, 16, 24, 32]), rng.choice([3, 5, 7]), rng.choice([1, 1, 2]), rng.choice([0, 1, 2]), "relu"),
            _pool(rng),
            ConvLayer(rng.choice([32, 48, 64]), rng.choice([3, 5]), 1, rng.choice([0, 1]), "relu"),
            _pool(rng),
            FcLayer(rng.choice([256, 512, 1024, 2048, 4096]), rng.choice(["tanh", "relu"])),
            FcLayer(2, "softmax"),
        ]
        try:
            calc.Network((3, crop, crop), to_calc_layers(layers))
        except ValueError:
            continue  # a window larger than its input: draw again
        break
    logits = (round(rng.uniform(0.5, 6.0), 1), round(rng.uniform(0.5, 6.0), 1))
    return Exam(
        seed=seed,
        images=rng.choice([100, 150, 200, 250, 300, 500]),
        crops_per_image=rng.choice([16, 32, 64, 128, 256]),
        crop_size=crop,
        augmentations=rng.sample(AUGMENTATIONS, rng.randint(2, 4)),
        classes=rng.choice(PLACES),
        layers=layers,
        batch_size=rng.choice([16, 32, 64, 128]),
        epochs=rng.choice([10, 20, 50, 100]),
        learning_rate=rng.choice([0.1, 0.05, 0.01, 0.001]),
        logits=logits,
        big_image=(crop * rng.choice([2, 3]), crop * rng.choice([4, 6, 8])),
    )


def _pool(rng: random.Random) -> PoolLayer:
    kernel = rng.choice([2, 3])
    return PoolLayer(rng.choice(["max", "avg"]), kernel, 2, rng.choice(range(kernel // 2 + 1)))

