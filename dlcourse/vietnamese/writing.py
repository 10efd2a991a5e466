"""What code writes on a page, in the Vietnamese edition: its words and its numbers.

The chapters' prose is translated by Sphinx's catalogues (``locales/vi``).  What the code
of a chapter draws or tabulates is not prose: a figure's title, axis labels and legend, a
table's header row.  Both editions show the same execution, so the Vietnamese version of
each is made from the English one with this module:

- ``vietnamese_numbers`` rewrites the numbers of a text the Vietnamese way: ``5,000`` is
  ``5.000`` and ``0.9`` is ``0,9`` (in Vietnamese, ``5,000`` reads as five);
- ``vietnamese`` translates one text, a figure label or a table header, from ``VIETNAMESE``
  (the one table of these words; glossary terms come from ``dlcourse.vietnamese.glossary``), with the
  numbers in it rewritten; a text it cannot translate is an error naming the text, so no
  English reaches a Vietnamese figure unnoticed.

Code and what code prints (a cell's output) keep Python's notation in both editions.

>>> vietnamese_numbers("165,191,680 MACs, loss 0.93, lr 1e-3, (3, 224, 224)")
'165.191.680 MACs, loss 0,93, lr 1e-3, (3, 224, 224)'
>>> vietnamese("learning rate")
'tốc độ học'
>>> vietnamese("input 7 x 7, padding 1")
'đầu vào 7 × 7, đệm 1'
"""

from __future__ import annotations

import re
import unicodedata

NUMBER = re.compile(
    r"(?<![\w.,])"                       # not inside a word, a version or another number
    r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?"   # 165,191,680 or 1,234.5
    r"|\d+\.\d+)"                        # 0.93
    r"(?:e[+-]?\d+)?"                    # 1.2e-05
    r"(?![\w]|[.,]\d)"                   # not 1.2.3 (a version), not 1.5x
)
"""A number written the English way that Vietnamese writes differently: grouped thousands, a
decimal point, or both.  Integers without separators (``224``) are the same in both."""

PLACEHOLDER = "{}"

VIETNAMESE: dict[str, str] = {
    # the book's theme
    "Search this book...": "Tìm trong sách…",
    # axis labels, titles and legends the chapters and dlcourse.display.plots write
    "learning rate": "tốc độ học",
    "learning rate / 10": "tốc độ học / 10",
    "step": "bước",
    "epoch": "epoch",
    "loss": "mất mát",
    "training loss": "mất mát huấn luyện",
    "training loss (cross-entropy)": "mất mát huấn luyện (entropy chéo)",
    "training error": "lỗi huấn luyện",
    "validation error": "lỗi trên tập kiểm định",
    "test accuracy": "độ chính xác trên tập kiểm tra",
    "test accuracy (%)": "độ chính xác trên tập kiểm tra (%)",
    "predicted": "dự đoán",
    "true": "thực tế",
    "training points": "điểm huấn luyện",
    "two spirals": "hai đường xoắn ốc",
    "input x": "đầu vào x",
    "input {} x {}, padding {}": "đầu vào {} × {}, đệm {}",
    "output {} x {}": "đầu ra {} × {}",
    "kernel {} x {}, stride {}, dilation {}: floor(({} + {}*{} - {}*({} - {}) - {}) / {}) + {} = {}":
        "nhân {} × {}, bước nhảy {}, độ giãn {}: floor(({} + {}*{} - {}*({} - {}) - {}) / {}) + {} = {}",
    "input row (pixels)": "hàng của đầu vào (điểm ảnh)",
    "input column (pixels)": "cột của đầu vào (điểm ảnh)",
    "(max of each {} x {} window)": "(giá trị lớn nhất của mỗi cửa sổ {} × {})",
    "(zero except at the maxima)": "(bằng 0 trừ tại các điểm cực đại)",
    "input gradient dL/dx": "gradient theo đầu vào dL/dx",
    "output gradient dL/dy": "gradient theo đầu ra dL/dy",
    "{} (jump {})": "{} (bước {})",
    "receptive field (input pixels, one side)": "vùng tiếp nhận (điểm ảnh đầu vào, một cạnh)",
    "after each layer": "sau mỗi tầng",
    "layers of": "các tầng của",
    "nested fields of one output": "các vùng lồng nhau của một đầu ra",
    "counted by dlcourse.calc": "đếm bằng dlcourse.calc",
    "parameters": "tham số",
    "multiply-accumulates (MACs)": "phép nhân-cộng (MAC)",
    "MACs per {} x {} image (LeNet-{}: {} x {})": "MAC cho mỗi ảnh {} × {} (LeNet-{}: {} × {})",
    "ImageNet top-{} (%)": "ImageNet top-{} (%)",
    "MobileNet v2: layers": "MobileNet v2: các tầng",
    "ResNet-{}: layers": "ResNet-{}: các tầng",
    "MobileNet v2: depthwise convs": "MobileNet v2: tích chập theo chiều sâu",
    "whole model": "cả mô hình",
    "no attention": "không có chú ý",
    "with attention": "có chú ý",
    "{} digits": "{} chữ số",
    "{} of {} digits right, temperature {}": "đúng {} trên {} chữ số, nhiệt độ {}",
    "string length (digits)": "độ dài chuỗi (chữ số)",
    "digits right (%)": "chữ số đúng (%)",
    "whole strings right (%)": "chuỗi đúng hoàn toàn (%)",
    "input digit (encoder position)": "chữ số đầu vào (vị trí của bộ mã hoá)",
    "output digit (decoder step)": "chữ số đầu ra (bước của bộ giải mã)",
    "attention weight": "trọng số chú ý",
    "dimension d": "số chiều d",
    "standard deviation of the scores": "độ lệch chuẩn của các điểm số",
    "mean largest weight of {}": "trung bình trọng số lớn nhất trong {}",
    "uniform ({}/{})": "đều ({}/{})",
    "scaled": "có chia tỉ lệ",
    "unscaled": "không chia tỉ lệ",
    "sequence length T (tokens)": "độ dài chuỗi T (token)",
    "projections $4TE^2$ (slope {})": "các phép chiếu $4TE^2$ (độ dốc {})",
    "scores and sum $2T^2E$ (slope {})": "điểm số và tổng $2T^2E$ (độ dốc {})",
    # Transformers (book/transformers.md)
    "training step": "bước huấn luyện",
    "training loss (nats per character)": "mất mát huấn luyện (nat mỗi ký tự)",
    "validation loss (nats per character)": "mất mát kiểm định (nat mỗi ký tự)",
    "pre-LN (median of {} seeds)": "pre-LN (trung vị của {} seed)",
    "post-LN (median of {} seeds)": "post-LN (trung vị của {} seed)",
    "entropy of the language": "entropy của ngôn ngữ",
    "head {}": "đầu {}",
    "attended character": "ký tự được chú ý",
    "reading character": "ký tự đang đọc",
    "black: activations forward; red: their gradients backward":
        "đen: kích hoạt khi lan truyền xuôi; đỏ: gradient của chúng khi lan truyền ngược",
    "matrix size n (n x n times n x n)": "kích thước ma trận n (n × n nhân n × n)",
    "achieved GFLOP/s (median of repeats)": "GFLOP/s đạt được (trung vị các lần lặp)",
    "FLOP/s (log scale)": "FLOP/s (thang log)",
    "memory bandwidth, bytes/s (log scale)": "băng thông bộ nhớ, byte/s (thang log)",
    "arithmetic intensity (FLOP per byte moved)": "cường độ số học (FLOP trên mỗi byte di chuyển)",
    "attainable performance (TFLOP/s)": "hiệu năng đạt được (TFLOP/s)",
    "roofline: min(peak, intensity x bandwidth)": "mái nhà: min(đỉnh, cường độ × băng thông)",
    "ridge point": "điểm gãy",
    "{} FLOP/B": "{} FLOP/B",
    "this device, measured": "thiết bị này, đo được",
    "GPipe, S = {} stages, M = {} micro-batches": "GPipe, S = {} giai đoạn, M = {} micro-batch",
    "colours, both panels": "màu, cả hai hình",
    "efficiency = speed-up / n": "hiệu suất = tăng tốc / n",
    "solid: measured; dotted: ideal speed-up n; dashed: fitted":
        "liền: đo được; chấm: tăng tốc lý tưởng n; gạch: khớp mô hình",
    "solid: measured; dotted: ideal speed-up n": "liền: đo được; chấm: tăng tốc lý tưởng n",
    "speed-up t({}) / t(n)": "tăng tốc t({}) / t(n)",
    "stage (device)": "giai đoạn (thiết bị)",
    "time (forward of one micro-batch = {})": "thời gian (lan truyền xuôi một micro-batch = {})",
    "{} GPU(s)": "{} GPU",
    "○ start, △ end, ★ minimum": "○ đầu, △ cuối, ★ cực tiểu",
    "degree {}: train {}, test {}": "bậc {}: huấn luyện {}, kiểm tra {}",
    # tables the chapters write: the worked exam's answers and its check of the printed key
    "question": "câu",
    "quantity": "đại lượng",
    "answer": "đáp án",
    "crops": "số ảnh cắt",
    "training samples": "số mẫu huấn luyện",
    "bytes": "byte",
    "layer {}": "tầng {}",
    "MACs per forward pass": "MAC mỗi lượt lan truyền xuôi",
    "FLOPs per forward pass": "FLOP mỗi lượt lan truyền xuôi",
    "MACs per mini-batch (forward + backward, {} samples)":
        "MAC mỗi mini-batch (lan truyền xuôi + ngược, {} mẫu)",
    "mini-batches per epoch": "số mini-batch mỗi epoch",
    "MACs in {} epochs": "MAC trong {} epoch",
    "delta = p − y": "δ = p − y",
    "o_HT ← {} − {} × delta_HT": "o_HT ← {} − {} × δ_HT",
    "bytes of input + activations (float32)": "byte cho đầu vào + kích hoạt (float32)",
    "bytes with the parameters": "byte kể cả tham số",
    "values the whole {} × {} photo flattens to": "số giá trị khi làm phẳng cả ảnh {} × {}",
    "MACs for {} × {} tiles of {} × {}": "MAC cho {} × {} mảnh {} × {}",
    "key prints": "đáp án in",
    "computation": "phép tính",
    "gives": "cho ra",
    "{} × {} (its text says {} transforms)": "{} × {} (lời giải ghi {} phép biến đổi)",
    "⌊({} + {}·{} − {})/{}⌋, the + {} dropped": "⌊({} + {}·{} − {})/{}⌋, thiếu + {}",
    "the key's four terms": "bốn số hạng của đáp án",
    "with {}·{}·{} inputs to layer {}": "với {}·{}·{} đầu vào của tầng {}",
    "the key's six terms": "sáu số hạng của đáp án",
    "the key's other six terms": "sáu số hạng khác của đáp án",
    "{} × {} × {}, as printed": "{} × {} × {}, như đáp án in",
    "{} × {} × {} (the right MACs)": "{} × {} × {} (số MAC đúng)",
    "{} × {} (forward only)": "{} × {} (chỉ lan truyền xuôi)",
    "{} × {} batches × {} ({} samples)": "{} × {} batch × {} ({} mẫu)",
    "{} − {} × ({}): δ of HG used": "{} − {} × ({}): dùng δ của HG",
    "{} − {} × {}, its own second line": "{} − {} × {}, dòng thứ hai của chính đáp án",
    "values with {} × {}, not × {} bytes": "số giá trị với {} × {}, chưa nhân {} byte",
    "{} × {} + {} (a count)": "{} × {} + {} (một số đếm)",
    "the key's 3a: one {} × {} tile": "câu 3a của đáp án: một mảnh {} × {}",
    # cnn_architectures: the model cards
    "model": "mô hình",
    "activations, batch {}": "kích hoạt, batch {}",
    "batch {}": "batch {}",
    "top-{}": "top-{}",
    "MobileNet v1: its paper (torchvision has no v1)": "MobileNet v1: bài báo gốc (torchvision không có v1)",
    "LeNet-{}: an MNIST model": "LeNet-{}: một mô hình cho MNIST",
    # recurrent: the parameter counts
    "by hand": "tính tay",
    # optimisers, surfaces, schedules
    "momentum": "động lượng",
    "gradient descent": "hạ gradient",
    "Newton, damping {}": "Newton, giảm chấn {}",
    "ravine": "rãnh hẹp",
    "saddle": "yên ngựa",
    "rosenbrock": "Rosenbrock",
    "double well": "giếng đôi",
    "double well: saddle at ({}, {})": "giếng đôi: điểm yên ngựa tại ({}, {})",
    "loss J(w)": "mất mát J(w)",
    "chance": "ngẫu nhiên",
    "step decay (/{} every {})": "giảm theo bậc (/{} sau mỗi {})",
    "warm-up {} + cosine": "khởi động {} + cosin",
    "cosine": "cosin",
    "training loss / validation error": "mất mát huấn luyện / lỗi trên tập kiểm định",
    "raw": "thô",
    "standardised": "chuẩn hoá",
    # initialisation, activations, recurrent cells
    "naive N({}, {})": "đơn giản N({}, {})",
    "tiny N(0, 0.01²)": "nhỏ N(0; 0,01²)",
    "layer k": "tầng k",
    "std of $A^{(k)}$": "độ lệch chuẩn của $A^{(k)}$",
    "std of $\\partial L / \\partial A^{(k)}$": "độ lệch chuẩn của $\\partial L / \\partial A^{(k)}$",
    "ReLU: activations": "ReLU: kích hoạt",
    "ReLU: gradients": "ReLU: gradient",
    "tanh: activations": "tanh: kích hoạt",
    "tanh: gradients": "tanh: gradient",
    "candidate g": "ứng viên g",
    "forget gate f": "cổng quên f",
    "input gate i": "cổng vào i",
    "output gate o": "cổng ra o",
    "distance T - t (time steps)": "khoảng cách T - t (bước thời gian)",
    # the preface's nested fields
    "Artificial intelligence\n(trí tuệ nhân tạo)": "Trí tuệ nhân tạo\n(artificial intelligence)",
    "Machine learning\n(học máy)": "Học máy\n(machine learning)",
    "Deep learning\n(học sâu)": "Học sâu\n(deep learning)",
    # the layer table of dlcourse.calc (dlcourse/calc/report.py)
    "#": "#",
    "layer": "tầng",
    "output shape": "kích thước đầu ra",
    "params": "tham số",
    "input": "đầu vào",
    "params: {}": "tham số: {}",
    "MACs: {}    FLOPs (= {} x MACs): {}": "MAC: {}    FLOP (= {} × MAC): {}",
    "stored values (input + outputs): {}": "số giá trị lưu (đầu vào + đầu ra): {}",
    "memory ({} B per value): input + activations {} B; with parameters {} B":
        "bộ nhớ ({} B mỗi giá trị): đầu vào + kích hoạt {} B; kể cả tham số {} B",
    "batch of {}: MACs {}; FLOPs {}; input + activations {} B; with parameters (stored once) {} B":
        "batch {} mẫu: MAC {}; FLOP {}; đầu vào + kích hoạt {} B; kể cả tham số (lưu một lần) {} B",
    "data parallelism: replicas + all-reduce": "song song dữ liệu: các bản sao + all-reduce",
    "model parallelism: stages + micro-batches": "song song mô hình: các giai đoạn + micro-batch",
    "(a replica)": "(một bản sao)",
    "all-reduce: every replica gets the mean gradient": "all-reduce: mọi bản sao nhận gradient trung bình",
    "micro-batches enter stage {} one after another": "các micro-batch lần lượt vào giai đoạn {}",
    "stage {}:": "giai đoạn {}:",
    "part {}": "phần {}",
    "batch size": "kích thước batch",
    "forward": "lan truyền xuôi",
    "backward": "lan truyền ngược",
    "idle (bubble)": "rỗi (bong bóng)",
    # tables the chapters write with dlcourse.display.tables
    "FP16 TC (TFLOP/s)": "FP16 TC (TFLOP/s)",
    "BF16 TC (TFLOP/s)": "BF16 TC (TFLOP/s)",
    "memory (GB)": "bộ nhớ (GB)",
    "bandwidth (GB/s)": "băng thông (GB/s)",
    "format": "định dạng",
    "bits": "số bit",
    "exponent bits": "số bit phần số mũ",
    "mantissa bits": "số bit phần định trị",
    "eps": "eps",
    "max": "lớn nhất",
    "min normal": "số chuẩn nhỏ nhất",
    "dtype": "kiểu dữ liệu",
    "median (s)": "trung vị (s)",
    "spread": "độ phân tán",
    "optimiser": "bộ tối ưu",
    "parameters (GB)": "tham số (GB)",
    "gradients (GB)": "gradient (GB)",
    "optimiser state (GB)": "trạng thái bộ tối ưu (GB)",
    "activations (GB)": "kích hoạt (GB)",
    "total (GB)": "tổng (GB)",
    "fits in": "vừa với",
    "neither": "không thẻ nào",
    "seconds, {} GPU": "giây, {} GPU",
    "seconds, {} GPUs": "giây, {} GPU",
    "speed-up, {} GPUs": "tăng tốc, {} GPU",
    "efficiency, {} GPUs": "hiệu suất, {} GPU",
    "median training loss": "mất mát huấn luyện (trung vị)",
    "median test accuracy (%)": "độ chính xác trên tập kiểm tra, trung vị (%)",
    "lowest (%)": "thấp nhất (%)",
    "highest (%)": "cao nhất (%)",
}
"""English text that code puts on a figure or in a table header → its Vietnamese.  A text
with numbers is listed with ``{}`` in their place."""

PATTERNS: tuple[tuple[str, str], ...] = (
    # dlcourse.hardware.gpu.describe_device
    (r"^CPU: (?P<model>.+) \((\d+) cores, (\d+) threads; torch uses (\d+)\)$",
     r"CPU: \1 (\2 lõi, \3 luồng; torch dùng \4)"),
    (r"^CPU: (?P<model>.+) \((\d+) threads; torch uses (\d+)\)$", r"CPU: \1 (\2 luồng; torch dùng \3)"),
    (r"^GPU: (?P<model>.+) \(CUDA device (\d+), (\d+) GiB\)$", r"GPU: \1 (thiết bị CUDA \2, \3 GiB)"),
    (r"^GPU: Apple silicon via MPS \((?P<model>.+)\)$", r"GPU: Apple silicon qua MPS (\1)"),
    (r"^Matrix multiply, measured on (.+)$", r"Nhân ma trận, đo trên \1"),
    (r"^Roofline of (?P<model>.+), FP32 \(published peaks\)$", r"Mô hình mái nhà của \1, FP32 (đỉnh công bố)"),
    (r"^(.+) \(published\)$", r"\1 (công bố)"),
    (r"^(.+), lr (.+)$", r"\1, lr \2"),
    (r"^(.+) \((\d+) seeds\)$", r"\1 (\2 seed)"),
    (r"^([a-z ]+), (\d+) steps$", r"\1, \2 bước"),
    (r"^totals are for the whole input of size (?P<shape>.+)$", r"tổng tính cho cả đầu vào kích thước \1"),
    (r"^MACs unknown \(shown as \?; not in the total\) for: (?P<names>.+)$",
     r"MAC chưa biết (ghi là ?; không tính vào tổng) cho: \1"),
    (r"^in ([\d ]+) -> out ([\d ]+)$", r"vào \1 → ra \2"),
)
"""Texts with a free part: a regular expression and its Vietnamese, tried in order after
``VIETNAMESE``.  A named group (a device's model) is kept as it is; every other group is
translated in turn."""


KEPT: tuple[str, ...] = (
    "SGD", "Adam", "AdamW", "RMSprop", "AdaGrad", "Nesterov", "ReLU", "tanh", "sigmoid", "GELU",
    "relu", "elu", "gelu", "silu", "leaky_relu", "softmax", "LSTM", "GRU", "RNN", "MACs", "MAC",
    "FLOPs", "GFLOP", "TFLOP", "FLOP", "GPU", "GPUs", "CPU", "cpu", "float32", "float16", "bfloat16",
    "FP32", "FP16", "TF32", "BF16", "epoch", "batch", "mini-batch", "x", "y", "f", "J", "w", "b", "d",
    "n", "T", "E", "ImageNet", "AlexNet", "LeNet", "GoogLeNet", "VGG", "ResNet", "MobileNet", "v1",
    "v2", "Conv", "MaxPool", "AvgPool", "s2", "A100", "H100", "V100", "T4", "SXM", "SXM2", "GB",
    "GTX", "RTX", "B", "s", "mini", "AMD", "EPYC", "Intel", "Xeon", "NVIDIA", "GiB", "MB", "GPipe",
    "S", "M", "torchvision", "PyTorch", "dlcourse", "calc", "summarize", "HT", "HG", "G", "K",
    "p", "o_HT", "delta_HT", "lr", "Newton", "He", "Xavier", "n_in", "n_out", "cnn", "mlp",
    "logistic",
)
"""Names a Vietnamese text keeps as they are (optimisers, activations, formats, units)."""


def vietnamese_numbers(text: str) -> str:
    """Rewrite the English-written numbers of ``text`` the Vietnamese way (swap ``,`` and ``.``).

    Integers without separators, numbers inside a version (``2.13.0``) and in words
    (``fp16``) stay as they are.

    >>> vietnamese_numbers("0.949 per step; 1,024 sequences; torch 2.13.0, Python 3.11")
    '0,949 per step; 1.024 sequences; torch 2.13.0, Python 3.11'
    """
    if not isinstance(text, str):
        raise ValueError(f"vietnamese_numbers needs a str, got {type(text).__name__}")

    def rewrite(match: re.Match) -> str:
        if _VERSION_BEFORE.search(text, 0, match.start()):
            return match.group()
        return match.group().translate(_SWAP)

    return _DECIMALS_LIST.sub(r"\1; ", NUMBER.sub(rewrite, text))


_DECIMALS_LIST = re.compile(r"(?<=\d,\d)(?=\d*, [-−]?\d)(\d*), ")
"""``0,5, 0,25``: with a decimal comma, the numbers of a list are separated by ``;``."""
_VERSION_BEFORE = re.compile(r"(?:Python|PyTorch|torch|CUDA|cuDNN|Book|Sphinx|NumPy|version|phiên bản) ?v?$")


_SWAP = str.maketrans({",": ".", ".": ","})

_MATH_NUMBER = re.compile(r"(?<![\w.,])(?:(?P<thousands>\d{1,3}(?:\{,\}\d{3})+)(?!\d)"
                          r"|(?P<decimal>\d+\.\d+)(?![\w.]*\d))")


def vietnamese_math(formula: str) -> str:
    """A LaTeX formula with its numbers the Vietnamese way: ``0{,}9`` and ``5.000``.

    In LaTeX a comma is punctuation (a space follows it), so a decimal comma is written
    ``{,}``; the thousands, written ``5{,}000`` in English, become ``5.000``.

    >>> vietnamese_math(r"$0.9^{50} \\approx 0.005$, $5{,}000$ steps, $x_{1.5}$")
    '$0{,}9^{50} \\\\approx 0{,}005$, $5.000$ steps, $x_{1{,}5}$'
    """
    if not isinstance(formula, str):
        raise ValueError(f"vietnamese_math needs a str, got {type(formula).__name__}")
    def rewrite(match: re.Match) -> str:
        if match.group("thousands"):
            return match.group().replace("{,}", ".")
        return match.group().replace(".", "{,}")

    return _MATH_NUMBER.sub(rewrite, formula)


_ANY_NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:[.,]\d+)*(?:e[+-]?\d+)?(?![\w])")
_WORD = re.compile(r"(?<![0-9])[A-Za-z][A-Za-z0-9_]*")
_MATH = re.compile(r"\$[^$]*\$")


def vietnamese(text: str) -> str:
    """The Vietnamese of ``text``, a label or header that code writes; numbers the Vietnamese way.

    A text is looked up whole in ``VIETNAMESE``, then line by line, then with its numbers
    replaced by ``{}``; a text that has Vietnamese letters already, or no English words (a
    name from ``KEPT``, a formula, a number) is only given Vietnamese numbers.
    Raises ``ValueError`` for a text with English words and no entry.

    >>> vietnamese("Adam"), vietnamese("0.5"), vietnamese("$w_{t+1}$")
    ('Adam', '0,5', '$w_{t+1}$')
    >>> vietnamese("heavy ball") # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: no Vietnamese for 'heavy ball': add it to VIETNAMESE in dlcourse/vietnamese/writing.py
    """
    if not isinstance(text, str):
        raise ValueError(f"vietnamese needs a str, got {type(text).__name__}")
    if text in VIETNAMESE:
        return VIETNAMESE[text]
    if "\n" in text:
        return "\n".join(vietnamese(line) for line in text.split("\n"))
    if any(not char.isascii() and unicodedata.name(char, "").startswith("LATIN") for char in text):
        # Vietnamese letters (ă, đ, ệ, …, not η or ×): the text is translated already
        return vietnamese_numbers(text)
    for pattern, replacement in PATTERNS:
        match = re.match(pattern, text)
        if match:
            names = {match.start(name) for name in match.groupdict()}
            parts = [part if part is None or match.start(i + 1) in names else vietnamese(part)
                     for i, part in enumerate(match.groups())]
            filled = ["" if part is None else part for part in parts]
            return re.sub(r"\\(\d)", lambda ref, filled=filled: filled[int(ref.group(1)) - 1], replacement)
    outside_maths = _MATH.split(text)
    numbers = [number for part in outside_maths for number in _ANY_NUMBER.findall(part)]
    template = _MATH.sub(lambda maths: maths.group().replace("{", "{{").replace("}", "}}"), text)
    template = "".join(_ANY_NUMBER.sub(PLACEHOLDER, part) if not part.startswith("$") else part
                       for part in re.split(r"(\$[^$]*\$)", template))
    if numbers and template in VIETNAMESE:
        return VIETNAMESE[template].format(*(vietnamese_numbers(n) for n in numbers))
    words = _WORD.findall(_MATH.sub("", template).replace(PLACEHOLDER, ""))
    if any(word not in KEPT and not re.fullmatch(r"[A-Za-z]\d*", word) for word in words):
        raise ValueError(f"no Vietnamese for {text!r}: add it to VIETNAMESE in dlcourse/vietnamese/writing.py")
    return vietnamese_numbers(text)


_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")


def vietnamese_html(markup: str) -> str:
    """An HTML table that code writes (``dlcourse.calc``'s layer table), in Vietnamese: its
    header cells translated, the numbers of its cells the Vietnamese way, the lines below it
    translated.  Tags, and code (``<code>``, ``<pre>``), are left as they are.

    >>> vietnamese_html("<table><tr><th>params</th></tr><tr><td>61,706</td></tr></table>"
    ...                 "<p>params: 61,706<br>stored values (input + outputs): 9,118</p>")
    '<table><tr><th>tham số</th></tr><tr><td>61.706</td></tr></table><p>tham số: 61.706<br>\
số giá trị lưu (đầu vào + đầu ra): 9.118</p>'
    """
    import html as html_escapes

    pieces, inside, in_code = [], "", False
    for match in _TAG_OR_TEXT.finditer(markup):
        tag, text = match.groups()
        if tag:
            name = re.match(r"</?\s*(\w+)", tag)
            if name and name.group(1).lower() in ("th", "td", "p", "caption"):
                inside = "" if tag.startswith("</") else name.group(1).lower()
            if name and name.group(1).lower() in ("code", "pre"):
                in_code = not tag.startswith("</")
            pieces.append(tag)
            continue
        if in_code:  # code keeps Python's notation
            pieces.append(text)
            continue
        plain = html_escapes.unescape(text)
        if plain.strip() and (inside in ("th", "p", "caption") or plain.strip() in VIETNAMESE):
            plain = vietnamese(plain.strip()).join(plain.split(plain.strip(), 1))
        else:
            plain = vietnamese_numbers(plain)
        pieces.append(html_escapes.escape(plain, quote=False))
    return "".join(pieces)
