"""The exam generator: reproducible, varied, valid in PyTorch, answered correctly, in two languages."""

import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from dlcourse.exam import generate, render
from dlcourse import calc


def torch_shapes_and_params(exam):
    """Build the exam's network in PyTorch layer by layer on the meta device; output shapes and parameters."""
    x = torch.empty(1, *exam.input_shape, device="meta")
    shapes, params = [], 0
    for layer in exam.layers:
        if isinstance(layer, calc.Conv2d):
            module = nn.Conv2d(x.shape[1], layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                               device="meta")
        elif isinstance(layer, (calc.MaxPool2d, calc.AvgPool2d)):
            pool = nn.MaxPool2d if isinstance(layer, calc.MaxPool2d) else nn.AvgPool2d
            module = pool(layer.kernel_size, layer.stride, layer.padding)
        elif isinstance(layer, calc.Flatten):
            module = nn.Flatten()
        else:
            module = nn.Linear(x.shape[1], layer.out_features, device="meta")
        x = module(x)
        shapes.append(tuple(x.shape[1:]))
        params += sum(p.numel() for p in module.parameters())
    return shapes, params


@pytest.mark.parametrize("seed", range(300))
def test_generated_networks_agree_with_pytorch(seed):
    exam = generate(seed)
    shapes, params = torch_shapes_and_params(exam)
    assert [row[1] for row in exam.answers()["rows"]] == shapes
    assert exam.answers()["params"] == params


def test_same_seed_same_exam_and_forty_distinct_variants():
    assert render(generate(11), "en", "md") == render(generate(11), "en", "md")
    texts = {render(generate(seed), "en", "md").split("\n", 1)[1] for seed in range(40)}
    assert len(texts) == 40


def test_key_by_hand_for_one_seed():
    exam = generate(5)
    key = exam.answers()
    crops = exam.images * exam.crops_per_image
    samples = crops * (len(exam.augmentations) + 1)
    assert key["crops"] == crops and key["samples"] == samples
    assert key["dataset_bytes"] == samples * exam.crop_size ** 2 * 3
    assert key["iterations"] == math.ceil(samples / exam.batch_size)
    assert key["per_batch_macs"] == 2 * key["macs"] * exam.batch_size
    assert key["total_macs"] == key["per_batch_macs"] * key["iterations"] * exam.epochs
    o1, o2 = exam.logits
    p2 = 1 / (1 + math.exp(o1 - o2))
    assert key["gradient"] == [round(-p2, 4), round(p2, 4)]  # the photo is of the first class: p1 - 1 = -p2
    assert abs(key["next_logit_1"] - (o2 - exam.learning_rate * p2)) <= 5e-5
    assert key["flops"] == 2 * key["macs"]


def test_vietnamese_reads_as_vietnamese():
    exam_vi = render(generate(2), "vi", "md")
    key_vi = render(generate(2), "vi", "md", key=True)
    for phrase in ("Bộ dữ liệu huấn luyện", "tích chập", "bước nhảy", "đệm", "tốc độ học", "mini-batch", "làm phẳng",
                   "Làm tròn đến hai chữ số thập phân"):
        assert phrase in exam_vi
    pooled = next(seed for seed in range(50)
                  if any(isinstance(layer, calc.MaxPool2d) for layer in generate(seed).layers))
    assert "gộp cực đại" in render(generate(pooled), "vi", "md")
    for old_term in ("giảm mẫu", "tỉ lệ học", "bó con", "viền", "lớp ra "):  # the terms Vietnamese courses do not use
        assert old_term not in exam_vi + key_vi
    for english in ("layer", "filters", "stride", "padding", "How many"):
        assert english not in exam_vi
    assert "tham số" in key_vi and "," not in key_vi.split("Tổng cộng: **")[1].split("**")[0]  # 1.234.567
    gradient = key_vi.split("δ = p − y = **(")[1].split(")**")[0]
    assert "; " in gradient and gradient.count(",") == 2  # (−0,87; 0,87): a semicolon between decimal commas


def test_an_exam_as_an_instructor_hands_it_out():
    import re

    for seed in range(20):
        exam = generate(seed)
        text = render(exam, "en", "md")
        assert "Name: ___" in text and "Student ID: ___" in text and "Time:" in text
        points = [float(p) for p in re.findall(r"Part \d \(([\d.]+) points\)", text)]
        assert sum(points) == 10
        flatten = next(i for i, layer in enumerate(exam.layers, start=1) if isinstance(layer, calc.Flatten))
        assert f"layer {flatten}: flatten" in text  # the step the key relies on is stated


def test_variants_differ_in_architecture_not_only_in_sizes():
    shapes = set()
    for seed in range(60):
        layers = generate(seed).layers
        convs = [layer for layer in layers if isinstance(layer, calc.Conv2d)]
        pools = [layer for layer in layers if isinstance(layer, (calc.MaxPool2d, calc.AvgPool2d))]
        shapes.add((len(convs), len(pools), any(c.kernel_size == (1, 1) for c in convs),
                    any(c.stride == (2, 2) for c in convs), tuple(type(layer).__name__ for layer in layers)))
    kinds = {shape[-1] for shape in shapes}
    assert len(kinds) >= 6  # several orders of layers, not one layout with other numbers
    assert {s[0] for s in shapes} >= {2, 3} and {s[1] for s in shapes} >= {0, 1, 2}
    assert any(s[2] for s in shapes) and any(s[3] for s in shapes)


def test_formats():
    exam = generate(4)
    html = render(exam, "en", "html")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>") and '<ol type="a">' in html
    pdf = render(exam, "vi", "pdf-md", key=True)
    assert pdf.startswith('---\ntitle: "Đáp án · đề số 4"') and "\\newpage" in pdf
    with pytest.raises(ValueError, match="language must be one of en, vi"):
        render(exam, "fr", "md")
    with pytest.raises(ValueError, match="format must be one of"):
        render(exam, "en", "pdf")


def test_forty_variants_with_keys_in_one_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "dlcourse.exam", "--seed", "100", "--variants", "40",
                             "--lang", "vi", "--format", "html", "--out", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("exam-*-vi.html"))) == 40 and len(list(tmp_path.glob("key-*-vi.html"))) == 40
    bad = subprocess.run([sys.executable, "-m", "dlcourse.exam", "--lang", "fr"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("dlcourse.exam: error: --lang must be one of en, vi")
