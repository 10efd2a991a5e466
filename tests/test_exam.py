"""The exam generator: reproducible, varied, valid in PyTorch, answered correctly, in two languages."""

import html as html_module
import math
import re
import subprocess
import sys

import pytest
import torch
from torch import nn

from dlcourse import calc
from dlcourse.exam import generate, render
from dlcourse.exam.render import number
from dlcourse.vietnamese import glossary


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


# Issue 25: the Vietnamese exam speaks the glossary's Vietnamese, writes numbers the Vietnamese way,
# says a calculator is allowed, and states the conventions its key relies on (English too).

SEEDS = range(0, 60, 4)
VI_NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})*(?:,\d+)?")  # 165.191.680 and 0,01
EN_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?")  # 165,191,680 and 0.01


def all_texts(exam, lang):
    """The exam and the key of ``lang`` in every format."""
    return [render(exam, lang, fmt, key=key) for fmt in ("md", "html", "pdf-md") for key in (False, True)]


def prose(text):
    """What a reader reads: the HTML body without tags, code spans (layer names such as ``Linear(4096)``) left out."""
    if text.startswith("<!DOCTYPE html>"):
        text = text.split("<body>", 1)[1].split("</body>", 1)[0]
        text = html_module.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<code>.*?</code>", " ", text)))
    return re.sub(r"`[^`]*`", " ", text)


def numbers(text):
    """Every number token of ``text``: digits with the separators between them (a sentence's full stop left out)."""
    return re.findall(r"\d[\d.,]*\d|\d", prose(text))


def value(token, lang):
    """The value of a number token read by the rules of ``lang``."""
    thousands, decimal = (".", ",") if lang == "vi" else (",", ".")
    return float(token.replace(thousands, "").replace(decimal, "."))


def vi(number):
    """An integer written the Vietnamese way, independently of the exam's own formatter."""
    groups = []
    digits = str(number)
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return ".".join(groups)


def layer_word():
    """The glossary's word for layer: its own entry, else the word 'hidden layer' and 'output layer' start with."""
    if "layer" in glossary.TERMS:
        return glossary.TERMS["layer"]
    hidden, output = glossary.TERMS["hidden layer"].split()[0], glossary.TERMS["output layer"].split()[0]
    assert hidden == output
    return hidden


@pytest.mark.parametrize("seed", SEEDS)
def test_vietnamese_exam_and_key_never_say_lop_for_layer_nor_the_replaced_words(seed):
    exam = generate(seed)
    class_name = glossary.TERMS.get("class")  # 'lớp' may mean class, if the glossary names class so
    for text in all_texts(exam, "vi"):
        readable = prose(text).replace(class_name, " ") if class_name else prose(text)
        assert re.search(r"(?<!\w)[Ll]ớp(?!\w)", readable) is None
        for replaced in ("cross-entropy", "vectơ", "lần tính xuôi", "không dùng máy tính", "độ lệch"):
            assert replaced not in text
        assert re.search(r"máy tính(?! cầm tay| bảng)", text) is None  # 'máy tính' alone: computer or calculator?
    layer = layer_word()
    exam_vi = render(exam, "vi", "md")
    assert f"{layer} 1:" in exam_vi and f"(đầu vào là {layer} 0)" in exam_vi
    assert "| # | " + layer + " |" in render(exam, "vi", "md", key=True)


def test_the_header_allows_a_calculator_in_both_languages():
    for seed in SEEDS:
        header_en = render(generate(seed), "en", "md").split("\n## ")[0]
        header_vi = render(generate(seed), "vi", "md").split("\n## ")[0]
        assert "notes and a calculator allowed" in header_en and "no computer" in header_en
        assert "máy tính cầm tay" in header_vi and "được dùng tài liệu và máy tính cầm tay" in header_vi


@pytest.mark.parametrize("seed", SEEDS)
def test_numbers_follow_each_languages_convention_in_every_format(seed):
    exam = generate(seed)
    for lang, pattern in (("vi", VI_NUMBER), ("en", EN_NUMBER)):
        for text in all_texts(exam, lang):
            wrong = [token for token in numbers(text) if not pattern.fullmatch(token)]
            assert wrong == [], (lang, wrong)
    for key in (False, True):  # the same numbers, each read by its own language's rules
        english = sorted(value(t, "en") for t in numbers(render(exam, "en", "md", key=key)))
        vietnamese = sorted(value(t, "vi") for t in numbers(render(exam, "vi", "md", key=key)))
        assert vietnamese == english
    shapes, params = torch_shapes_and_params(exam)
    key_vi, key_en = render(exam, "vi", "md", key=True), render(exam, "en", "md", key=True)
    samples = exam.images * exam.crops_per_image * (len(exam.augmentations) + 1)
    assert f"**{vi(samples)}**" in key_vi and f"**{samples:,}**" in key_en
    assert f"**{vi(params)}**" in key_vi and f"**{params:,}**" in key_en
    flat = next(shape[0] for shape in shapes if len(shape) == 1)
    assert f"| {vi(flat)} |" in key_vi  # the flatten's length in the table, 10.800
    exam_vi = render(exam, "vi", "md")
    assert f"{exam.learning_rate}".replace(".", ",") in exam_vi and str(exam.learning_rate) not in exam_vi
    assert f"o₁ = {exam.logits[0]}".replace(".", ",") in exam_vi


def test_the_number_formatter_writes_vietnamese_and_english():
    assert number(165191680, "vi") == "165.191.680" and number(165191680, "en") == "165,191,680"
    assert number(0.01, "vi") == "0,01" and number(0.01, "en") == "0.01"
    assert number(-0.9, "vi") == "\u22120,9" and number(5000, "vi") == "5.000"


def macs_and_stored_values(exam):
    """MACs by the textbook formulas (pooling, activations and the flatten: none) and the values a forward pass
    stores (the input and every layer output except the flatten's), from the PyTorch shapes."""
    shapes, _ = torch_shapes_and_params(exam)
    previous, macs, stored = exam.input_shape, 0, math.prod(exam.input_shape)
    for layer, shape in zip(exam.layers, shapes):
        if isinstance(layer, calc.Conv2d):
            macs += math.prod(shape) * previous[0] * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, calc.Linear):
            macs += previous[0] * shape[0]
        if not isinstance(layer, calc.Flatten):
            stored += math.prod(shape)
        previous = shape
    return macs, stored


@pytest.mark.parametrize("seed", SEEDS)
def test_the_conventions_the_key_relies_on_are_stated_in_the_questions(seed):
    exam = generate(seed)
    exam_en, exam_vi = render(exam, "en", "md"), render(exam, "vi", "md")
    key_en, key_vi = render(exam, "en", "md", key=True), render(exam, "vi", "md", key=True)
    questions_en = exam_en.split("\n## Part 2")[0], exam_en.split("\n## Part 3")[1], exam_en.split("\n## Part 4")[1]
    questions_vi = exam_vi.split("\n## Phần 2")[0], exam_vi.split("\n## Phần 3")[1], exam_vi.split("\n## Phần 4")[1]
    layer, t = layer_word(), glossary.TERMS
    # part 1: one byte per stored RGB value, and the key's data set size uses that byte
    rgb = int(re.search(r"Every sample is stored, (\d+) byte per RGB value", questions_en[0]).group(1))
    assert f"mỗi giá trị RGB {rgb} byte" in questions_vi[0]
    samples = exam.images * exam.crops_per_image * (len(exam.augmentations) + 1)
    assert f"**{samples * exam.crop_size ** 2 * 3 * rgb:,}** bytes" in key_en
    # part 3: MACs only for weights × inputs; pooling and activations none; 1 MAC = 2 FLOPs; last batch full
    assert ("bias additions, activation functions (ReLU, tanh, softmax) and pooling count no MACs; 1 MAC = 2 FLOPs"
            in questions_en[1])
    assert (f"phép cộng {t['bias']}, {t['activation function']} (ReLU, tanh, softmax) và {layer} {t['pooling']} "
            "không tính MAC; 1 MAC = 2 FLOP") in questions_vi[1]
    assert "its last mini-batch, if smaller, costs as much as a full one" in exam_en
    assert (f"{t['mini-batch']} cuối của epoch, nếu ít mẫu hơn, vẫn tốn chi phí như một {t['mini-batch']} đầy đủ"
            in exam_vi)
    macs, stored = macs_and_stored_values(exam)
    assert f"**{macs:,}** MACs, that is **{2 * macs:,}** FLOPs" in key_en
    assert f"**{vi(macs)}** MAC, tức **{vi(2 * macs)}** FLOP" in key_vi
    batches = math.ceil(samples / exam.batch_size)
    assert f"**{2 * macs * exam.batch_size * batches * exam.epochs:,}** MACs" in key_en
    # part 4: bytes per value, activations in place, the flatten stores nothing; the key counts the same way
    size = int(re.search(r"Every value is a floating-point number of (\d+) bytes", questions_en[2]).group(1))
    assert "the flatten stores no values of its own" in questions_en[2]
    assert "activation function works in place" in questions_en[2]
    assert f"Mỗi giá trị là một số thực {size} byte" in questions_vi[2]
    assert f"{layer} làm phẳng không lưu giá trị nào của riêng nó" in questions_vi[2]
    assert f"({t['activation function']} tính tại chỗ)" in questions_vi[2]
    assert f"**{stored * size:,}** bytes" in key_en and f"**{vi(stored * size)}** byte" in key_vi
    _, params = torch_shapes_and_params(exam)
    assert f"**{(stored + params) * size:,}** bytes" in key_en


def test_the_vietnamese_terms_are_the_glossarys():
    """The exam's Vietnamese domain terms are glossary.TERMS values, looked up there, not typed again."""
    used = ["convolution", "stride", "padding", "cross-entropy", "loss function", "learning rate", "mini-batch",
            "stochastic gradient descent", "gradient descent", "weight", "bias", "output layer", "backpropagation",
            "activation function", "data augmentation", "softmax", "rectified linear unit"]
    pooled = {kind: next(s for s in range(100) if any(type(layer) is kind for layer in generate(s).layers))
              for kind in (calc.MaxPool2d, calc.AvgPool2d)}
    for kind, term in ((calc.MaxPool2d, "max pooling"), (calc.AvgPool2d, "average pooling")):
        assert glossary.vietnamese(term) in render(generate(pooled[kind]), "vi", "md")
    exam = generate(pooled[calc.MaxPool2d])
    text = render(exam, "vi", "md") + render(exam, "vi", "md", key=True)
    for term in used:
        assert glossary.vietnamese(term) in text, term
    assert f"{layer_word()} {glossary.vietnamese('pooling')}" in text
    assert glossary.vietnamese("context vector").split()[0] in text  # véc-tơ, the glossary's vector


def test_renaming_a_term_in_the_glossary_renames_it_in_the_exam(monkeypatch):
    """One source of truth: with every glossary name in capitals, the exam shows the capitals, not the old names."""
    original = dict(glossary.TERMS)
    monkeypatch.setattr(glossary, "TERMS", {english: name.upper() for english, name in original.items()})
    exam = generate(next(s for s in range(100) if any(isinstance(layer, calc.MaxPool2d)
                                                      for layer in generate(s).layers)))
    text = render(exam, "vi", "md") + render(exam, "vi", "md", key=True)
    for term in ("convolution", "stride", "padding", "cross-entropy", "loss function", "learning rate", "weight",
                 "bias", "output layer", "backpropagation", "activation function", "data augmentation",
                 "max pooling", "stochastic gradient descent", "neural network"):
        assert original[term].upper() in text, term
        assert original[term] not in text, term
    assert original["hidden layer"].split()[0].upper() + " 1:" in text
