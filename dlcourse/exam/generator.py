"""A random but valid exam in the style of the book's worked exam, and its answers computed with dlcourse.calc.

The same seed always gives the same exam.  Every generated network is one PyTorch accepts
(pooling padding at most half the kernel), so the tests can check it against PyTorch; the
layers are ``dlcourse.calc`` layers, drawn by ``random_network``, which the assignments'
hidden tests use too.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass
class Exam:
    """Everything an exam states; ``answers()`` computes the key."""

    seed: int
    images: int
    crops_per_image: int
    crop_size: int
    augmentations: list[tuple[str, str]]
    classes: tuple[tuple[str, str], tuple[str, str]]
    layers: list[calc.Layer]
    batch_size: int
    epochs: int
    learning_rate: float
    logits: tuple[float, float]
    big_image: tuple[int, int]
    bytes_per_value: int = 4  # each value the network computes or stores (float32)
    rgb_bytes: int = 1  # each RGB value of the stored training set (an integer from 0 to 255)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (3, self.crop_size, self.crop_size)

    def network(self) -> calc.Network:
        return calc.Network(self.input_shape, self.layers)

    def answers(self) -> dict[str, object]:
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
            "dataset_bytes": samples * self.crop_size * self.crop_size * 3 * self.rgb_bytes,
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


def random_network(rng: random.Random, input_shape: tuple[int, int, int], classes: int = 2,
                   hidden: Sequence[int] = (256, 512, 1024, 2048, 4096)) -> list[calc.Layer]:
    """A random CNN that PyTorch accepts: convolutions and pooling, flatten, then two fully connected layers.

    The one generator of the course's networks: the exams draw theirs here, and so do the
    hidden tests of assignment 3.  Architectures vary: two or three convolutions, pooling
    after some of them or a stride-2 convolution instead, sometimes a 1 x 1 convolution;
    pooling padding is at most half the window, as PyTorch requires.  The layers are
    ``dlcourse.calc`` layers; a layer that would not fit its input is drawn again.

    >>> layers = random_network(random.Random(3), (3, 64, 64))
    >>> isinstance(layers[0], calc.Conv2d), type(layers[-3]).__name__, layers[-1].out_features
    (True, 'Flatten', 2)
    """
    for _ in range(1000):
        layers: list[calc.Layer] = []
        convs = rng.choice([2, 2, 3])
        for index in range(convs):
            if index == convs - 1 and convs == 3 and rng.random() < 0.5:
                layers.append(calc.Conv2d(rng.choice([16, 32, 64]), 1, activation="relu"))  # a 1 x 1 convolution
                continue
            downsample = rng.choice(["pool", "pool", "stride", "none"])
            stride = 2 if downsample == "stride" else rng.choice([1, 1, 2]) if index == 0 else 1
            layers.append(calc.Conv2d(rng.choice([8, 16, 24, 32, 48, 64]),
                                      rng.choice([3, 5, 7] if index == 0 else [3, 5]),
                                      stride=stride, padding=rng.choice([0, 1, 2]), activation="relu"))
            if downsample == "pool":
                kernel = rng.choice([2, 3])
                pool = calc.MaxPool2d if rng.random() < 0.5 else calc.AvgPool2d
                layers.append(pool(kernel, stride=2, padding=rng.choice(range(kernel // 2 + 1))))
        layers += [calc.Flatten(), calc.Linear(rng.choice(list(hidden)), activation=rng.choice(["tanh", "relu"])),
                   calc.Linear(classes, activation="softmax")]
        try:
            calc.Network(tuple(input_shape), layers)
        except ValueError:
            continue  # a window larger than its input: draw again
        return layers
    raise ValueError(f"no valid network for an input of shape {tuple(input_shape)}")


def generate(seed: int) -> Exam:
    """The exam for ``seed``: same seed, same exam."""
    rng = random.Random(seed)
    crop = rng.choice([64, 96, 128, 160])
    layers = random_network(rng, (3, crop, crop))
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
