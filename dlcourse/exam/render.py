"""The exam and its key as text, in English or Vietnamese, as Markdown, HTML or PDF-ready Markdown.

A document is a list of blocks — ("h1", text), ("h2", text), ("p", text), ("ol", [items]) for
numbered facts, ("ul", [items]) for bullets, ("qs", [items]) for questions lettered a), b), …,
and ("table", header, rows) — built once per language and written out by one small function
per format.

The Vietnamese texts take every domain term that the glossary names from ``dlcourse.vietnamese.glossary``
(looked up at each call: *tầng* for layer, *entropy chéo*, *hệ số điều chỉnh*, …), and every
number, formulas of the key included, goes through ``number``: 165,191,680 and 0.01 in
English, 165.191.680 and 0,01 in Vietnamese.  The questions state the conventions the key
counts by: one byte per stored RGB value, MACs only for weights times inputs (pooling and
activation functions none, 1 MAC = 2 FLOPs), the last mini-batch counted full, values of
``Exam.bytes_per_value`` bytes, and a flatten that stores nothing of its own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from dlcourse import calc
from dlcourse.exam.generator import Exam
from dlcourse.vietnamese import glossary
from dlcourse.vietnamese.writing import vietnamese_numbers

Block = tuple
LANGUAGES = ("en", "vi")
FORMATS = ("md", "html", "pdf-md")

ENGLISH: dict[str, Any] = {
    "title": "Deep learning exam · variant {seed}",
    "key_title": "Answer key · variant {seed}",
    "fields": ("Name: ____________________   Student ID: ____________   "
               "Time: 90 minutes; notes and a calculator allowed; no computer, tablet or phone"),
    "part1": "Part 1 (2 points) · The training data",
    "part2": "Part 2 (3 points) · The network",
    "part3": "Part 3 (3 points) · Training",
    "part4": "Part 4 (2 points) · Prediction",
    "data": "A data set of {images} colour (RGB) photos is used to train a network that tells {a} from {b}.",
    "crop": "Each photo is cropped at random into {crops} squares of {size} × {size} pixels.",
    "augment": "Every crop is kept, and data augmentation makes one more sample from it with each of: {augs}.",
    "bytes": "RGB values are integers from 0 to 255, one byte each; they are divided by 255 before training.",
    "and": " and ",
    "q1": ["How many training samples are there after cropping?",
           "How many after cropping and augmentation?",
           ("How many bytes does the whole training set take after cropping and augmentation? "
            "Every sample is stored, {rgb} byte per RGB value.")],
    "net": "The network has {n} layers (the input is layer 0):",
    "conv": "layer {i}: convolution with ReLU, {f} filters of {k} × {k}, stride {s}, padding {p}",
    "pool": "layer {i}: {kind}, window {k} × {k}, stride {s}, padding {p}",
    "max": "max pooling", "avg": "average pooling",
    "flatten": "layer {i}: flatten: the output of layer {j} becomes one vector of height × width × depth values",
    "fc": "layer {i}: fully connected, {u} units, {act}",
    "out": "layer {i}: fully connected output layer, {u} units, softmax",
    "acts": {"relu": "ReLU", "tanh": "tanh"},
    "q2": ["Give the output size of layers 1 to {j} as height × width × depth.",
           "How many parameters (weights and biases) does the network have in total?"],
    "train": ("The network is trained with plain stochastic gradient descent, mini-batches of {n}, learning rate "
              "{lr}, for {e} epochs, with softmax and cross-entropy. "
              "Assume the backward pass costs as much as the forward pass. An epoch is one pass over the "
              "training set of part 1; its last mini-batch, if smaller, costs as much as a full one."),
    "q3": [("How many multiply-accumulates (MACs) does one forward pass of one sample take, all layers together? "
            "How many FLOPs is that? Count one MAC per multiplication of a weight by an input in the "
            "convolutions and the fully connected layers; bias additions, activation functions "
            "(ReLU, tanh, softmax) and pooling count no MACs; 1 MAC = 2 FLOPs."),
           "How many MACs does one iteration on one mini-batch take (forward and backward)?",
           "How many MACs do all {e} epochs over the training set of part 1 take?",
           ("A photo of {a} gets the outputs o₁ = {o1} ({a}) and o₂ = {o2} ({b}). "
            "What is the gradient of the loss with respect to the outputs, δ = p − y? Round to two decimals."),
           ("Treating the outputs as parameters, what is o₂ after one gradient descent step? "
            "Use δ₂ unrounded and round the result to four decimals.")],
    "q4": [("How many bytes do the input and the outputs of all layers take when one sample is classified? "
            "Every value is a floating-point number of {b} bytes; each layer's output counts once (its "
            "activation function works in place), and the flatten stores no values of its own (it is a view "
            "of the output before it)."),
           "How many bytes in total, with the parameters ({b} bytes each)?",
           ("A photo of {h} × {w} pixels is cut into tiles of {size} × {size} and each tile is classified "
            "(one forward pass per tile). How many MACs does that take?")],
    "k_crops": "{images} photos × {crops} crops = **{v}** samples.",
    "k_samples": "Each crop is kept and augmented {n} ways: {crops} × ({n} + 1) = **{v}** samples.",
    "k_bytes": "{s} samples × {size} × {size} × 3 values × {rgb} byte = **{v}** bytes.",
    "k_shapes": "Output sizes use ⌊(n + 2p − k) / s⌋ + 1:",
    "layer": "layer", "shape": "output (H × W × D)", "params": "parameters", "macs": "MACs",
    "k_params": "Total: **{v}** parameters.",
    "k_macs": ("Sum of the MACs column: **{v}** MACs, that is **{f}** FLOPs (1 MAC = 2 FLOPs). "
               "Pooling and activation functions count no MACs."),
    "k_batch": "{m} MACs × 2 (forward and backward) × {n} samples = **{v}** MACs.",
    "k_total": "An epoch is ⌈{s} / {n}⌉ = {it} mini-batches: {bm} × {it} × {e} = **{v}** MACs.",
    "k_grad": "p = softmax(o) = ({p1}, {p2}); y = (1, 0); δ = p − y = **({g1}, {g2})**.",
    "k_step": "o₂ ← o₂ − η δ₂ = {o2} − {lr} × {g2} = **{v}** (the output for {b}, the wrong answer, goes down).",
    "k_act": "Input and every layer output (the flatten is a view and stores nothing) × {b} bytes: **{v}** bytes.",
    "k_all": "Adding {p} parameters × {b} bytes: **{v}** bytes.",
    "k_tiles": "({h} / {size}) × ({w} / {size}) = {t} tiles × {m} MACs = **{v}** MACs.",
    "computed": "Every number was computed with dlcourse.calc.",
}


def layer_word() -> str:
    """The glossary's Vietnamese word for *layer* (never *lớp*, which is also a class).

    >>> layer_word() == glossary.vietnamese("layer") == glossary.vietnamese("hidden layer").split()[0]
    True
    """
    return glossary.vietnamese("layer")


def _capital(text: str) -> str:
    """``text`` with its first letter upper case (``str.capitalize`` would lower the rest, as in ReLU)."""
    return text[:1].upper() + text[1:]


def vietnamese_words() -> dict[str, Any]:
    """The Vietnamese texts, every domain term looked up in ``dlcourse.vietnamese.glossary`` at each call.

    >>> texts = vietnamese_words()
    >>> glossary.vietnamese("cross-entropy") in texts["train"], "lớp" in str(texts)
    (True, False)
    """
    g = glossary.vietnamese
    layer = layer_word()
    vector = g("vector")
    pooling_layer = f"{layer} {g('pooling')}"
    backward = g("backpropagation")
    forward = g("forward pass")
    fc = g("fully connected layer").removeprefix(f"{layer} ")  # "kết nối đầy đủ", after "tầng" or alone
    neuron, flatten, parameter = g("neuron"), g("flatten"), g("parameter")
    return {
        "title": "Đề thi học sâu · đề số {seed}",
        "key_title": "Đáp án · đề số {seed}",
        "fields": ("Họ và tên: ____________________   Mã số sinh viên: ____________   "
                   "Thời gian: 90 phút; được dùng tài liệu và máy tính cầm tay; "
                   "không được dùng máy vi tính, máy tính bảng hay điện thoại"),
        "part1": "Phần 1 (2 điểm) · Bộ dữ liệu huấn luyện",
        "part2": f"Phần 2 (3 điểm) · {_capital(g('neural network'))}",
        "part3": "Phần 3 (3 điểm) · Huấn luyện",
        "part4": "Phần 4 (2 điểm) · Dự đoán",
        "data": "Một bộ dữ liệu gồm {images} ảnh màu RGB được dùng để huấn luyện mạng phân biệt {a} và {b}.",
        "crop": "Mỗi ảnh được cắt ngẫu nhiên thành {crops} ảnh vuông kích thước {size} × {size} điểm ảnh.",
        "augment": (f"Mỗi ảnh cắt được giữ lại, và {g('data augmentation')} tạo thêm từ nó một mẫu mới "
                    "với mỗi phép biến đổi sau: {augs}."),
        "bytes": ("Giá trị RGB là số nguyên từ 0 đến 255, mỗi giá trị một byte; "
                  "chúng được chia cho 255 trước khi huấn luyện."),
        "and": " và ",
        "q1": ["Sau khi cắt ảnh, tập huấn luyện có bao nhiêu mẫu?",
               "Sau khi cắt ảnh và tăng cường, tập huấn luyện có bao nhiêu mẫu?",
               ("Sau khi cắt ảnh và tăng cường, toàn bộ tập huấn luyện chiếm bao nhiêu byte? "
                "Mọi mẫu đều được lưu, mỗi giá trị RGB {rgb} byte.")],
        "net": f"Mạng có {{n}} {layer} (đầu vào là {layer} 0):",
        "conv": (f"{layer} {{i}}: {g('convolution')} với {g('activation function')} {g('rectified linear unit')}, "
                 f"{{f}} {g('filter')} {{k}} × {{k}}, {g('stride')} {{s}}, {g('padding')} {{p}}"),
        "pool": f"{layer} {{i}}: {{kind}}, cửa sổ {{k}} × {{k}}, {g('stride')} {{s}}, {g('padding')} {{p}}",
        "max": g("max pooling"), "avg": g("average pooling"),
        "flatten": (f"{layer} {{i}}: {flatten}: đầu ra của {layer} {{j}} thành một {vector} "
                    "gồm cao × rộng × sâu giá trị"),
        "fc": f"{layer} {{i}}: {fc}, {{u}} {neuron}, {g('activation function')} {{act}}",
        "out": f"{layer} {{i}}: {g('output layer')} {fc}, {{u}} {neuron}, {g('softmax')}",
        "acts": {"relu": g("rectified linear unit"), "tanh": "tanh"},
        "q2": [f"Cho biết kích thước đầu ra của các {layer} 1 đến {{j}} theo quy ước cao × rộng × sâu.",
               f"Tổng số {parameter} ({g('weight')} và {g('bias')}) của cả mạng là bao nhiêu?"],
        "train": (f"Mạng được huấn luyện bằng {g('stochastic gradient descent')} (SGD) với {g('mini-batch')} "
                  f"{{n}} mẫu, {g('learning rate')} {{lr}}, trong {{e}} epoch, dùng {g('softmax')} và "
                  f"{g('loss function')} {g('cross-entropy')}. Giả sử {backward} tốn chi phí bằng {forward}. "
                  f"Mỗi epoch đi qua toàn bộ tập huấn luyện ở phần 1 một lần; {g('mini-batch')} cuối của epoch, "
                  f"nếu ít mẫu hơn, vẫn tốn chi phí như một {g('mini-batch')} đầy đủ."),
        "q3": [(f"Một lượt {forward} cho một mẫu cần bao nhiêu phép nhân-cộng (MAC) cho tất cả các {layer}? "
                f"Tương ứng bao nhiêu FLOP? Mỗi phép nhân một {g('weight')} với một đầu vào trong các {layer} "
                f"{g('convolution')} và các {layer} {fc} tính là một MAC; phép cộng {g('bias')}, "
                f"{g('activation function')} (ReLU, tanh, softmax) và {pooling_layer} không tính MAC; "
                "1 MAC = 2 FLOP."),
               f"Một vòng lặp trên một {g('mini-batch')} ({forward} và {backward}) cần bao nhiêu MAC?",
               "Cả {e} epoch trên toàn bộ tập huấn luyện ở phần 1 cần bao nhiêu MAC?",
               ("Một ảnh {a} cho đầu ra o₁ = {o1} ({a}) và o₂ = {o2} ({b}). "
                f"Gradient của {g('loss function')} theo đầu ra, δ = p − y, bằng bao nhiêu? "
                "Làm tròn đến hai chữ số thập phân."),
               (f"Coi các đầu ra là {parameter}, giá trị o₂ sau một bước {g('gradient descent')} là bao nhiêu? "
                "Dùng δ₂ chưa làm tròn và làm tròn kết quả đến bốn chữ số thập phân.")],
        "q4": [(f"Khi dự đoán một mẫu, đầu vào và đầu ra của mọi {layer} chiếm bao nhiêu byte? Mỗi giá trị là "
                f"một số thực {{b}} byte; đầu ra của mỗi {layer} tính một lần ({g('activation function')} tính "
                f"tại chỗ), và {layer} {flatten} không lưu giá trị nào của riêng nó (nó chỉ là một cách nhìn "
                f"khác vào đầu ra của {layer} trước)."),
               f"Tính cả các {parameter} ({{b}} byte mỗi {parameter}) thì tổng cộng bao nhiêu byte?",
               ("Một ảnh {h} × {w} điểm ảnh được cắt thành các ô {size} × {size} và từng ô được phân loại "
                f"(một lượt {forward} cho mỗi ô). Cần bao nhiêu MAC?")],
        "k_crops": "{images} ảnh × {crops} ảnh cắt = **{v}** mẫu.",
        "k_samples": "Mỗi ảnh cắt được giữ lại và tăng cường theo {n} cách: {crops} × ({n} + 1) = **{v}** mẫu.",
        "k_bytes": "{s} mẫu × {size} × {size} × 3 giá trị × {rgb} byte = **{v}** byte.",
        "k_shapes": "Kích thước đầu ra theo công thức ⌊(n + 2p − k) / s⌋ + 1:",
        "layer": layer, "shape": "đầu ra (cao × rộng × sâu)", "params": parameter, "macs": "MAC",
        "k_params": f"Tổng cộng: **{{v}}** {parameter}.",
        "k_macs": ("Tổng cột MAC: **{v}** MAC, tức **{f}** FLOP (1 MAC = 2 FLOP). "
                   f"{_capital(pooling_layer)} và {g('activation function')} không tính MAC."),
        "k_batch": f"{{m}} MAC × 2 ({forward} và {backward}) × {{n}} mẫu = **{{v}}** MAC.",
        "k_total": (f"Một epoch gồm ⌈{{s}} / {{n}}⌉ = {{it}} {g('mini-batch')}: "
                    "{bm} × {it} × {e} = **{v}** MAC."),
        "k_grad": "p = softmax(o) = ({p1}; {p2}); y = (1; 0); δ = p − y = **({g1}; {g2})**.",
        "k_step": "o₂ ← o₂ − η δ₂ = {o2} − {lr} × {g2} = **{v}** (đầu ra ứng với {b}, đáp án sai, giảm xuống).",
        "k_act": (f"Đầu vào và đầu ra của mọi {layer} ({layer} {flatten} không lưu thêm giá trị) × {{b}} byte: "
                  "**{v}** byte."),
        "k_all": f"Cộng thêm {{p}} {parameter} × {{b}} byte: **{{v}}** byte.",
        "k_tiles": "({h} / {size}) × ({w} / {size}) = {t} ô × {m} MAC = **{v}** MAC.",
        "computed": "Mọi con số đều được tính bằng dlcourse.calc.",
    }


def words(lang: str) -> dict[str, Any]:
    """The texts of ``lang``; the Vietnamese ones are built from the glossary at each call.

    >>> words("en")["layer"], words("vi")["layer"] == layer_word()
    ('layer', True)
    """
    return ENGLISH if lang == "en" else vietnamese_words()


def number(value: object, lang: str) -> str:
    """A number as a reader of ``lang`` writes it: 38,400 and 0.79 in English; 38.400 and 0,79 in Vietnamese.

    The one number format of the exam and its key, formulas included.  ``value`` is an int,
    a float, or a number already written the English way (a string, for a fixed number of
    decimals).  Negative numbers take a typographic minus sign (−), as in the questions' formulas.

    >>> number(38400, "vi"), number(0.7858, "vi"), number(38400, "en"), number(-0.79, "vi")
    ('38.400', '0,7858', '38,400', '−0,79')
    >>> number(1234.5, "vi"), number("0.10", "vi"), number(165191680, "vi"), number(165191680, "en")
    ('1.234,5', '0,10', '165.191.680', '165,191,680')
    """
    text = f"{value:,}" if _is_number(value) else str(value)
    text = text.replace("-", "\u2212", 1) if text.startswith("-") else text
    return vietnamese_numbers(text) if lang == "vi" else text


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fill(template: str, lang: str, **values: object) -> str:
    """``template`` filled in, every int and float written by ``number`` for ``lang``, text as it is.

    >>> _fill("{n} × {x} = {v}", "vi", n=1280, x="0.5", v=640.0)
    '1.280 × 0.5 = 640,0'
    """
    return template.format(**{name: number(value, lang) if _is_number(value) else value
                              for name, value in values.items()})


def _layer_lines(w: dict[str, Any], layers: Sequence[calc.Layer], lang: str) -> list[str]:
    """One line per layer, numbered from 1: convolution, pooling, flatten, fully connected."""
    lines = []
    for index, layer in enumerate(layers, start=1):
        if isinstance(layer, calc.Conv2d):
            lines.append(_fill(w["conv"], lang, i=index, f=layer.out_channels, k=layer.kernel_size[0],
                               s=layer.stride[0], p=layer.padding[0]))
        elif isinstance(layer, (calc.MaxPool2d, calc.AvgPool2d)):
            kind = w["max"] if isinstance(layer, calc.MaxPool2d) else w["avg"]
            lines.append(_fill(w["pool"], lang, i=index, kind=kind, k=layer.kernel_size[0], s=layer.stride[0],
                               p=layer.padding[0]))
        elif isinstance(layer, calc.Flatten):
            lines.append(_fill(w["flatten"], lang, i=index, j=index - 1))
        elif layer.activation == "softmax":
            lines.append(_fill(w["out"], lang, i=index, u=layer.out_features))
        else:
            lines.append(_fill(w["fc"], lang, i=index, u=layer.out_features,
                               act=w["acts"].get(layer.activation, layer.activation)))
    return lines


def _spatial_layers(exam: Exam) -> int:
    """The number of layers before the flatten (those with a height × width × depth output)."""
    return next(i for i, layer in enumerate(exam.layers) if isinstance(layer, calc.Flatten))


def _names(exam: Exam, lang: str) -> tuple[str, str]:
    pick = 0 if lang == "en" else 1
    return exam.classes[0][pick], exam.classes[1][pick]


def exam_blocks(exam: Exam, lang: str) -> list[Block]:
    """The exam's blocks in ``lang``: four parts of facts and questions, with the conventions the key uses."""
    w = words(lang)
    a, b = _names(exam, lang)
    augs = [aug[0 if lang == "en" else 1] for aug in exam.augmentations]
    joined = (", ".join(augs[:-1]) + w["and"] + augs[-1]) if len(augs) > 1 else augs[0]
    return [
        ("h1", w["title"].format(seed=exam.seed)),
        ("p", w["fields"]),
        ("h2", w["part1"]),
        ("p", _fill(w["data"], lang, images=exam.images, a=a, b=b)),
        ("ol", [_fill(w["crop"], lang, crops=exam.crops_per_image, size=exam.crop_size),
                _fill(w["augment"], lang, augs=joined), w["bytes"]]),
        ("qs", [_fill(q, lang, rgb=exam.rgb_bytes) for q in w["q1"]]),
        ("h2", w["part2"]),
        ("p", _fill(w["net"], lang, n=len(exam.layers))),
        ("ul", _layer_lines(w, exam.layers, lang)),
        ("qs", [_fill(q, lang, j=_spatial_layers(exam)) for q in w["q2"]]),
        ("h2", w["part3"]),
        ("p", _fill(w["train"], lang, n=exam.batch_size, lr=exam.learning_rate, e=exam.epochs)),
        ("qs", [_fill(q, lang, e=exam.epochs, a=a, b=b, o1=exam.logits[0], o2=exam.logits[1]) for q in w["q3"]]),
        ("h2", w["part4"]),
        ("qs", [_fill(q, lang, h=exam.big_image[0], w=exam.big_image[1], size=exam.crop_size,
                      b=exam.bytes_per_value) for q in w["q4"]]),
    ]


def key_blocks(exam: Exam, lang: str) -> list[Block]:
    """The key's blocks in ``lang``: every answer, with the computation that gives it."""
    w = words(lang)
    k = exam.answers()
    _, wrong = _names(exam, lang)
    n = lambda value: number(value, lang)  # noqa: E731
    rows = [[n(i), f"`{name}`", " × ".join(n(v) for v in _hwd(shape)), n(params), n(macs)]
            for i, (name, shape, params, macs) in enumerate(k["rows"], start=1)]
    return [
        ("h1", w["key_title"].format(seed=exam.seed)),
        ("h2", w["part1"]),
        ("qs", [
            _fill(w["k_crops"], lang, images=exam.images, crops=exam.crops_per_image, v=k["crops"]),
            _fill(w["k_samples"], lang, n=len(exam.augmentations), crops=k["crops"], v=k["samples"]),
            _fill(w["k_bytes"], lang, s=k["samples"], size=exam.crop_size, rgb=exam.rgb_bytes, v=k["dataset_bytes"]),
        ]),
        ("h2", w["part2"]),
        ("p", w["k_shapes"]),
        ("table", ["#", w["layer"], w["shape"], w["params"], w["macs"]], rows),
        ("p", _fill(w["k_params"], lang, v=k["params"])),
        ("h2", w["part3"]),
        ("qs", [
            _fill(w["k_macs"], lang, v=k["macs"], f=k["flops"]),
            _fill(w["k_batch"], lang, m=k["macs"], n=exam.batch_size, v=k["per_batch_macs"]),
            _fill(w["k_total"], lang, s=k["samples"], n=exam.batch_size, it=k["iterations"], bm=k["per_batch_macs"],
                  e=exam.epochs, v=k["total_macs"]),
            _fill(w["k_grad"], lang, p1=k["probabilities"][0], p2=k["probabilities"][1],
                  g1=n(f"{k['gradient'][0]:.2f}"), g2=n(f"{k['gradient'][1]:.2f}")),
            _fill(w["k_step"], lang, o2=exam.logits[1], lr=exam.learning_rate, g2=k["gradient"][1],
                  v=n(f"{k['next_logit_1']:.4f}"), b=wrong),
        ]),
        ("h2", w["part4"]),
        ("qs", [
            _fill(w["k_act"], lang, b=exam.bytes_per_value, v=k["activation_bytes"]),
            _fill(w["k_all"], lang, p=k["params"], b=exam.bytes_per_value, v=k["total_bytes"]),
            _fill(w["k_tiles"], lang, h=exam.big_image[0], w=exam.big_image[1], size=exam.crop_size, t=k["tiles"],
                  m=k["macs"], v=k["big_image_macs"]),
        ]),
        ("p", f"*{w['computed']}*"),
    ]


def _hwd(shape: Sequence[int]) -> Sequence[int]:
    """(C, H, W) as the exam's H × W × D; vectors as they are."""
    return (shape[1], shape[2], shape[0]) if len(shape) == 3 else tuple(shape)


def to_markdown(blocks: list[Block], page_breaks: bool = False) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            out.append(f"# {block[1]}\n")
        elif kind == "h2":
            if page_breaks and out:
                out.append("\\newpage\n")
            out.append(f"## {block[1]}\n")
        elif kind == "p":
            out.append(f"{block[1]}\n")
        elif kind in ("ol", "ul", "qs"):
            marks = {"ol": lambda i: f"{i + 1}.", "ul": lambda i: "-", "qs": lambda i: f"{'abcdefghij'[i]})"}[kind]
            out.append("\n".join(f"{marks(i)} {item}" for i, item in enumerate(block[1])) + "\n")
        elif kind == "table":
            header, rows = block[1], block[2]
            out.append("| " + " | ".join(header) + " |\n|" + "|".join("---" for _ in header) + "|\n"
                       + "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n")
    return "\n".join(out)


def to_html(blocks: list[Block], lang: str) -> str:
    def inline(text: str) -> str:
        escaped = re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))
        while "**" in escaped:
            escaped = escaped.replace("**", "<strong>", 1).replace("**", "</strong>", 1)
        return escaped.replace("*", "")

    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{inline(block[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{inline(block[1])}</p>")
        elif kind in ("ol", "ul", "qs"):
            tag, attrs = {"ol": ("ol", ""), "ul": ("ul", ""), "qs": ("ol", ' type="a"')}[kind]
            body.append(f"<{tag}{attrs}>" + "".join(f"<li>{inline(item)}</li>" for item in block[1]) + f"</{tag}>")
        elif kind == "table":
            head = "".join(f"<th>{inline(cell)}</th>" for cell in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in row) + "</tr>" for row in block[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    style = ("body{font-family:sans-serif;max-width:50em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:2px 6px}")
    return (f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
            f"<title>{inline(block_title(blocks))}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def block_title(blocks: list[Block]) -> str:
    return next(block[1] for block in blocks if block[0] == "h1")


def render(exam: Exam, lang: str, fmt: str, key: bool = False) -> str:
    """The exam (or its key) for ``lang`` in ``fmt``."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    blocks = key_blocks(exam, lang) if key else exam_blocks(exam, lang)
    if fmt == "html":
        return to_html(blocks, lang)
    text = to_markdown(blocks, page_breaks=fmt == "pdf-md")
    if fmt == "pdf-md":
        text = f"---\ntitle: \"{block_title(blocks)}\"\nlang: {lang}\n---\n\n" + text
    return text
