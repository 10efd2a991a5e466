"""The exam and its key as text, in English or Vietnamese, as Markdown, HTML or PDF-ready Markdown.

A document is a list of blocks — ("h1", text), ("h2", text), ("p", text), ("ol", [items]) for
numbered facts, ("ul", [items]) for bullets, ("qs", [items]) for questions lettered a), b), …,
and ("table", header, rows) — built once per language and written out by one small function
per format.
"""

from __future__ import annotations

import html
from typing import Dict, List, Sequence, Tuple

from dlcourse import calc

from .generator import Exam

Block = Tuple
LANGUAGES = ("en", "vi")
FORMATS = ("md", "html", "pdf-md")

WORDS: Dict[str, Dict[str, str]] = {
    "en": {
        "title": "Deep learning exam · variant {seed}",
        "key_title": "Answer key · variant {seed}",
        "fields": ("Name: ____________________   Student ID: ____________   "
                   "Time: 90 minutes, notes allowed, no computer"),
        "part1": "Part 1 (2 points) · The training data",
        "part2": "Part 2 (3 points) · The network",
        "part3": "Part 3 (3 points) · Training",
        "part4": "Part 4 (2 points) · Prediction",
        "data": "A data set of {images} colour (RGB) photos is used to train a network that tells {a} from {b}.",
        "crop": "Each photo is cropped at random into {crops} squares of {size} × {size} pixels.",
        "augment": "Every crop is kept and also augmented by {augs}.",
        "bytes": "RGB values are integers from 0 to 255, one byte each; they are divided by 255 before training.",
        "q1": ["How many training samples are there after cropping?",
               "How many after cropping and augmentation?",
               "How many bytes does the whole training set take after cropping and augmentation?"],
        "net": "The network has {n} layers (the input is layer 0):",
        "conv": "layer {i}: convolution with ReLU, {f} filters of {k} × {k}, stride {s}, padding {p}",
        "pool": "layer {i}: {kind} pooling, window {k} × {k}, stride {s}, padding {p}",
        "max": "max", "avg": "average",
        "flatten": "layer {i}: flatten: the output of layer {j} becomes one vector of height × width × depth values",
        "fc": "layer {i}: fully connected, {u} units, {act}",
        "out": "layer {i}: fully connected output layer, {u} units, softmax",
        "q2": ["Give the output size of layers 1 to {j} as height × width × depth.",
               "How many parameters (weights and biases) does the network have in total?"],
        "train": ("The network is trained with plain stochastic gradient descent, mini-batches of {n}, learning rate "
                  "{lr}, for {e} epochs, with softmax and cross-entropy. "
                  "Assume the backward pass costs as much as the forward pass."),
        "q3": [("How many multiply-accumulates (MACs) does one forward pass of one sample take, all layers together? "
                "How many FLOPs is that?"),
               "How many MACs does one iteration on one mini-batch take (forward and backward)?",
               "How many MACs do all {e} epochs over the training set of part 1 take?",
               ("A photo of {a} gets the outputs o₁ = {o1} ({a}) and o₂ = {o2} ({b}). "
                "What is the gradient of the loss with respect to the outputs, δ = p − y? Round to two decimals."),
               ("Treating the outputs as parameters, what is o₂ after one gradient descent step? "
                "Round to four decimals.")],
        "q4": [("How many bytes do the input and the outputs of all layers take when one sample is classified "
                "(float32, 4 bytes per value)?"),
               "How many bytes in total, with the parameters?",
               ("A photo of {h} × {w} pixels is cut into tiles of {size} × {size} and each tile is classified. "
                "How many MACs does that take?")],
        "k_crops": "{images} photos × {crops} crops = **{v}** samples.",
        "k_samples": "Each crop is kept and augmented {n} ways: {crops} × ({n} + 1) = **{v}** samples.",
        "k_bytes": "{s} samples × {size} × {size} × 3 bytes = **{v}** bytes.",
        "k_shapes": "Output sizes use ⌊(n + 2p − k) / s⌋ + 1:",
        "layer": "layer", "shape": "output (H × W × D)", "params": "parameters", "macs": "MACs",
        "k_params": "Total: **{v}** parameters.",
        "k_macs": ("Sum of the MACs column: **{v}** MACs, that is **{f}** FLOPs (1 MAC = 2 FLOPs). "
                   "Pooling counts no MACs."),
        "k_batch": "{m} MACs × 2 (forward and backward) × {n} samples = **{v}** MACs.",
        "k_total": "An epoch is ⌈{s} / {n}⌉ = {it} mini-batches: {b} × {it} × {e} = **{v}** MACs.",
        "k_grad": "p = softmax(o) = ({p1}, {p2}); y = (1, 0); δ = p − y = **({g1}, {g2})**.",
        "k_step": "o₂ ← o₂ − η δ₂ = {o2} − {lr} × {g2} = **{v}** (the wrong class's output goes down).",
        "k_act": "Input and every layer output (the flatten is a view and stores nothing): **{v}** bytes.",
        "k_all": "Adding {p} parameters × 4 bytes: **{v}** bytes.",
        "k_tiles": "({h} / {size}) × ({w} / {size}) = {t} tiles × {m} MACs = **{v}** MACs.",
        "computed": "Every number was computed with dlcourse.calc.",
    },
    "vi": {
        "title": "Đề thi học sâu · đề số {seed}",
        "key_title": "Đáp án · đề số {seed}",
        "fields": ("Họ và tên: ____________________   Mã số sinh viên: ____________   "
                   "Thời gian: 90 phút, được dùng tài liệu, không dùng máy tính"),
        "part1": "Phần 1 (2 điểm) · Bộ dữ liệu huấn luyện",
        "part2": "Phần 2 (3 điểm) · Mạng nơ-ron",
        "part3": "Phần 3 (3 điểm) · Huấn luyện",
        "part4": "Phần 4 (2 điểm) · Dự đoán",
        "data": "Một bộ dữ liệu gồm {images} ảnh màu RGB được dùng để huấn luyện mạng phân biệt {a} và {b}.",
        "crop": "Mỗi ảnh được cắt ngẫu nhiên thành {crops} ảnh vuông kích thước {size} × {size} điểm ảnh.",
        "augment": "Mỗi ảnh cắt được giữ lại và được tăng cường thêm bằng cách {augs}.",
        "bytes": ("Giá trị RGB là số nguyên từ 0 đến 255, mỗi giá trị một byte; "
                  "chúng được chia cho 255 trước khi huấn luyện."),
        "q1": ["Sau khi cắt ảnh, tập huấn luyện có bao nhiêu mẫu?",
               "Sau khi cắt ảnh và tăng cường, tập huấn luyện có bao nhiêu mẫu?",
               "Sau khi cắt ảnh và tăng cường, toàn bộ tập huấn luyện chiếm bao nhiêu byte?"],
        "net": "Mạng có {n} lớp (đầu vào là lớp 0):",
        "conv": "lớp {i}: tích chập với hàm ReLU, {f} bộ lọc {k} × {k}, bước nhảy {s}, đệm {p}",
        "pool": "lớp {i}: gộp {kind}, cửa sổ {k} × {k}, bước nhảy {s}, đệm {p}",
        "max": "cực đại", "avg": "trung bình",
        "flatten": "lớp {i}: làm phẳng: đầu ra của lớp {j} thành một vectơ gồm cao × rộng × sâu giá trị",
        "fc": "lớp {i}: kết nối đầy đủ, {u} nơ-ron, hàm {act}",
        "out": "lớp {i}: lớp đầu ra kết nối đầy đủ, {u} nơ-ron, hàm softmax",
        "q2": ["Cho biết kích thước đầu ra của các lớp 1 đến {j} theo quy ước cao × rộng × sâu.",
               "Tổng số tham số (trọng số và độ lệch) của cả mạng là bao nhiêu?"],
        "train": ("Mạng được huấn luyện bằng hạ gradient ngẫu nhiên (SGD) với mini-batch (lô nhỏ) {n} mẫu, "
                  "tốc độ học {lr}, trong {e} epoch, dùng softmax và hàm mất mát cross-entropy. "
                  "Giả sử lan truyền ngược tốn chi phí bằng lan truyền xuôi."),
        "q3": [("Một lần tính xuôi cho một mẫu cần bao nhiêu phép nhân-cộng (MAC) cho tất cả các lớp? "
                "Tương ứng bao nhiêu FLOP?"),
               "Một vòng lặp trên một mini-batch (xuôi và ngược) cần bao nhiêu MAC?",
               "Cả {e} epoch trên toàn bộ tập huấn luyện ở phần 1 cần bao nhiêu MAC?",
               ("Một ảnh {a} cho đầu ra o₁ = {o1} ({a}) và o₂ = {o2} ({b}). "
                "Đạo hàm của hàm mất mát theo đầu ra, δ = p − y, bằng bao nhiêu? Làm tròn đến hai chữ số thập phân."),
               ("Coi các đầu ra là tham số, giá trị o₂ sau một bước hạ gradient là bao nhiêu? "
                "Làm tròn đến bốn chữ số thập phân.")],
        "q4": ["Khi dự đoán một mẫu, đầu vào và đầu ra của mọi lớp chiếm bao nhiêu byte (số thực 4 byte)?",
               "Tính cả các tham số thì tổng cộng bao nhiêu byte?",
               ("Một ảnh {h} × {w} điểm ảnh được cắt thành các ô {size} × {size} và từng ô được phân loại. "
                "Cần bao nhiêu MAC?")],
        "k_crops": "{images} ảnh × {crops} ảnh cắt = **{v}** mẫu.",
        "k_samples": "Mỗi ảnh cắt được giữ lại và tăng cường theo {n} cách: {crops} × ({n} + 1) = **{v}** mẫu.",
        "k_bytes": "{s} mẫu × {size} × {size} × 3 byte = **{v}** byte.",
        "k_shapes": "Kích thước đầu ra theo công thức ⌊(n + 2p − k) / s⌋ + 1:",
        "layer": "lớp", "shape": "đầu ra (cao × rộng × sâu)", "params": "tham số", "macs": "MAC",
        "k_params": "Tổng cộng: **{v}** tham số.",
        "k_macs": "Tổng cột MAC: **{v}** MAC, tức **{f}** FLOP (1 MAC = 2 FLOP). Lớp gộp không có MAC.",
        "k_batch": "{m} MAC × 2 (xuôi và ngược) × {n} mẫu = **{v}** MAC.",
        "k_total": "Một epoch gồm ⌈{s} / {n}⌉ = {it} mini-batch: {b} × {it} × {e} = **{v}** MAC.",
        "k_grad": "p = softmax(o) = ({p1}; {p2}); y = (1; 0); δ = p − y = **({g1}; {g2})**.",
        "k_step": "o₂ ← o₂ − η δ₂ = {o2} − {lr} × {g2} = **{v}** (đầu ra của lớp sai giảm xuống).",
        "k_act": "Đầu vào và đầu ra của mọi lớp (lớp làm phẳng không lưu thêm giá trị): **{v}** byte.",
        "k_all": "Cộng thêm {p} tham số × 4 byte: **{v}** byte.",
        "k_tiles": "({h} / {size}) × ({w} / {size}) = {t} ô × {m} MAC = **{v}** MAC.",
        "computed": "Mọi con số đều được tính bằng dlcourse.calc.",
    },
}


def number(value: object, lang: str) -> str:
    """A number as a reader of ``lang`` writes it: 38,400 and 0.79 in English; 38.400 and 0,79 in Vietnamese.

    Negative numbers take a typographic minus sign (−), as in the questions' formulas.

    >>> number(38400, "vi"), number(0.7858, "vi"), number(38400, "en"), number(-0.79, "vi")
    ('38.400', '0,7858', '38,400', '−0,79')
    """
    text = f"{value:,}" if isinstance(value, int) else str(value)
    text = text.replace("-", "\u2212", 1) if text.startswith("-") else text
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def _layer_lines(words: Dict[str, str], layers: Sequence[calc.Layer]) -> List[str]:
    """One line per layer, numbered from 1: convolution, pooling, flatten, fully connected."""
    lines = []
    for index, layer in enumerate(layers, start=1):
        if isinstance(layer, calc.Conv2d):
            lines.append(words["conv"].format(i=index, f=layer.out_channels, k=layer.kernel_size[0], s=layer.stride[0],
                                              p=layer.padding[0]))
        elif isinstance(layer, (calc.MaxPool2d, calc.AvgPool2d)):
            kind = words["max"] if isinstance(layer, calc.MaxPool2d) else words["avg"]
            lines.append(words["pool"].format(i=index, kind=kind, k=layer.kernel_size[0], s=layer.stride[0],
                                              p=layer.padding[0]))
        elif isinstance(layer, calc.Flatten):
            lines.append(words["flatten"].format(i=index, j=index - 1))
        elif layer.activation == "softmax":
            lines.append(words["out"].format(i=index, u=layer.out_features))
        else:
            lines.append(words["fc"].format(i=index, u=layer.out_features, act=layer.activation))
    return lines


def _spatial_layers(exam: Exam) -> int:
    """The number of layers before the flatten (those with a height × width × depth output)."""
    return next(i for i, layer in enumerate(exam.layers) if isinstance(layer, calc.Flatten))


def _names(exam: Exam, lang: str) -> Tuple[str, str]:
    pick = 0 if lang == "en" else 1
    return exam.classes[0][pick], exam.classes[1][pick]


def exam_blocks(exam: Exam, lang: str) -> List[Block]:
    w = WORDS[lang]
    a, b = _names(exam, lang)
    n = lambda value: number(value, lang)  # noqa: E731
    augs = [aug[0 if lang == "en" else 1] for aug in exam.augmentations]
    joined = (", ".join(augs[:-1]) + (" and " if lang == "en" else " và ") + augs[-1]) if len(augs) > 1 else augs[0]
    return [
        ("h1", w["title"].format(seed=exam.seed)),
        ("p", w["fields"]),
        ("h2", w["part1"]),
        ("p", w["data"].format(images=n(exam.images), a=a, b=b)),
        ("ol", [w["crop"].format(crops=n(exam.crops_per_image), size=exam.crop_size),
                w["augment"].format(augs=joined), w["bytes"]]),
        ("qs", w["q1"]),
        ("h2", w["part2"]),
        ("p", w["net"].format(n=len(exam.layers))),
        ("ul", _layer_lines(w, exam.layers)),
        ("qs", [q.format(j=_spatial_layers(exam)) for q in w["q2"]]),
        ("h2", w["part3"]),
        ("p", w["train"].format(n=exam.batch_size, lr=n(exam.learning_rate), e=exam.epochs)),
        ("qs", [q.format(e=exam.epochs, a=a, b=b, o1=n(exam.logits[0]), o2=n(exam.logits[1])) for q in w["q3"]]),
        ("h2", w["part4"]),
        ("qs", [q.format(h=exam.big_image[0], w=exam.big_image[1], size=exam.crop_size) for q in w["q4"]]),
    ]


def key_blocks(exam: Exam, lang: str) -> List[Block]:
    w = WORDS[lang]
    k = exam.answers()
    n = lambda value: number(value, lang)  # noqa: E731
    rows = [[str(i), name, " × ".join(str(v) for v in _hwd(shape)), n(params), n(macs)]
            for i, (name, shape, params, macs) in enumerate(k["rows"], start=1)]
    return [
        ("h1", w["key_title"].format(seed=exam.seed)),
        ("h2", w["part1"]),
        ("qs", [
            w["k_crops"].format(images=n(exam.images), crops=n(exam.crops_per_image), v=n(k["crops"])),
            w["k_samples"].format(n=len(exam.augmentations), crops=n(k["crops"]), v=n(k["samples"])),
            w["k_bytes"].format(s=n(k["samples"]), size=exam.crop_size, v=n(k["dataset_bytes"])),
        ]),
        ("h2", w["part2"]),
        ("p", w["k_shapes"]),
        ("table", ["#", w["layer"], w["shape"], w["params"], w["macs"]], rows),
        ("p", w["k_params"].format(v=n(k["params"]))),
        ("h2", w["part3"]),
        ("qs", [
            w["k_macs"].format(v=n(k["macs"]), f=n(k["flops"])),
            w["k_batch"].format(m=n(k["macs"]), n=exam.batch_size, v=n(k["per_batch_macs"])),
            w["k_total"].format(s=n(k["samples"]), n=exam.batch_size, it=n(k["iterations"]), b=n(k["per_batch_macs"]),
                                e=exam.epochs, v=n(k["total_macs"])),
            w["k_grad"].format(p1=n(k["probabilities"][0]), p2=n(k["probabilities"][1]),
                               g1=n(f"{k['gradient'][0]:.2f}"), g2=n(f"{k['gradient'][1]:.2f}")),
            w["k_step"].format(o2=n(exam.logits[1]), lr=n(exam.learning_rate), g2=n(k["gradient"][1]),
                               v=n(f"{k['next_logit_1']:.4f}")),
        ]),
        ("h2", w["part4"]),
        ("qs", [
            w["k_act"].format(v=n(k["activation_bytes"])),
            w["k_all"].format(p=n(k["params"]), v=n(k["total_bytes"])),
            w["k_tiles"].format(h=exam.big_image[0], w=exam.big_image[1], size=exam.crop_size, t=k["tiles"],
                                m=n(k["macs"]), v=n(k["big_image_macs"])),
        ]),
        ("p", f"*{w['computed']}*"),
    ]


def _hwd(shape: Sequence[int]) -> Sequence[int]:
    """(C, H, W) as the exam's H × W × D; vectors as they are."""
    return (shape[1], shape[2], shape[0]) if len(shape) == 3 else tuple(shape)


def to_markdown(blocks: List[Block], page_breaks: bool = False) -> str:
    out: List[str] = []
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


def to_html(blocks: List[Block], lang: str) -> str:
    def inline(text: str) -> str:
        escaped = html.escape(text)
        while "**" in escaped:
            escaped = escaped.replace("**", "<strong>", 1).replace("**", "</strong>", 1)
        return escaped.replace("*", "")

    body: List[str] = []
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


def block_title(blocks: List[Block]) -> str:
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
