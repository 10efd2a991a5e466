"""The book's key terms and their Vietnamese names: the one place the package takes them from.

``TERMS`` maps every English headword of the glossary (``book/glossary.md``, the ``{glossary}``
block) to the Vietnamese name written in italics right after it, the name the book uses
everywhere.  Code that writes Vietnamese domain terms (the exam generator,
``dlcourse.exam.render``) looks them up here with ``vietnamese`` instead of typing them again,
so a renamed term changes in one place.

The names are written out in this module, not read from the book, because the package also
works installed with ``pip install .``, where ``book/`` is absent.  ``tests/test_glossary.py``
parses ``book/glossary.md`` on its own and checks that it and ``TERMS`` agree entry by entry,
in both directions: a term added, removed or renamed in one place only fails that test.
Change a name in both places.
"""

from __future__ import annotations

import difflib

TERMS: dict[str, str] = {
    "1 × 1 convolution": "tích chập 1 × 1",
    "activation checkpointing": "checkpoint kích hoạt",
    "activation function": "hàm kích hoạt",
    "alignment": "căn chỉnh",
    "all-gather": "all-gather",
    "all-reduce": "all-reduce",
    "arithmetic intensity": "cường độ số học",
    "attention": "cơ chế chú ý",
    "attention weights": "trọng số chú ý",
    "average pooling": "gộp trung bình",
    "backpropagation": "lan truyền ngược",
    "backpropagation through time": "lan truyền ngược theo thời gian",
    "batch normalisation": "chuẩn hoá theo lô",
    "bias": "hệ số điều chỉnh",
    "bias correction": "hiệu chỉnh độ chệch",
    "bidirectional RNN": "RNN hai chiều",
    "bottleneck": "nút thắt cổ chai",
    "causal mask": "mặt nạ nhân quả",
    "cell state": "trạng thái ô",
    "chain rule": "quy tắc dây chuyền",
    "condition number": "số điều kiện",
    "context vector": "véc-tơ ngữ cảnh",
    "convolution": "tích chập",
    "convolutional neural network": "mạng nơ-ron tích chập",
    "cross-correlation": "tương quan chéo",
    "cross-entropy": "entropy chéo",
    "data augmentation": "tăng cường dữ liệu",
    "data parallelism": "song song dữ liệu",
    "deep learning": "học sâu",
    "depthwise separable convolution": "tích chập tách biệt theo chiều sâu",
    "dilation": "độ giãn",
    "downsampling": "giảm mẫu",
    "dropout": "dropout",
    "early stopping": "dừng sớm",
    "efficiency": "hiệu suất",
    "eigenvalue": "trị riêng",
    "embedding": "embedding",
    "encoder-decoder": "mô hình mã hoá–giải mã",
    "epoch": "epoch",
    "exploding gradient": "bùng nổ gradient",
    "exponential moving average": "trung bình động trọng số mũ",
    "filter": "bộ lọc",
    "flatten": "làm phẳng",
    "forget gate": "cổng quên",
    "forward pass": "lan truyền xuôi",
    "full convolution": "tích chập đầy đủ",
    "fully connected layer": "tầng kết nối đầy đủ",
    "global average pooling": "gộp trung bình toàn cục",
    "global interpreter lock": "khoá trình thông dịch toàn cục",
    "GPU": "bộ xử lý đồ hoạ",
    "gradient check": "kiểm tra gradient",
    "gradient clipping": "cắt gradient",
    "gradient descent": "hạ gradient",
    "He initialisation": "khởi tạo He",
    "Hessian": "ma trận Hessian",
    "hidden layer": "tầng ẩn",
    "hidden state": "trạng thái ẩn",
    "input gate": "cổng vào",
    "input normalisation": "chuẩn hoá đầu vào",
    "Jacobian": "ma trận Jacobi",
    "KV cache": "bộ nhớ đệm KV",
    "language model": "mô hình ngôn ngữ",
    "latency": "độ trễ",
    "layer": "tầng",
    "layer normalisation": "chuẩn hoá tầng",
    "learning rate": "tốc độ học",
    "learning-rate schedule": "lịch tốc độ học",
    "local minimum": "cực tiểu địa phương",
    "loss function": "hàm mất mát",
    "mask": "mặt nạ",
    "max pooling": "gộp cực đại",
    "memory bandwidth": "băng thông bộ nhớ",
    "mini-batch": "mini-batch",
    "mixed precision": "độ chính xác hỗn hợp",
    "model parallelism": "song song mô hình",
    "momentum": "động lượng",
    "multi-head attention": "chú ý đa đầu",
    "neural network": "mạng nơ-ron",
    "neuron": "nơ-ron",
    "one-hot encoding": "biểu diễn one-hot",
    "output gate": "cổng ra",
    "output layer": "tầng đầu ra",
    "overfitting": "quá khớp",
    "padding": "đệm",
    "parameter": "tham số",
    "perplexity": "độ hỗn loạn",
    "pipeline": "đường ống",
    "pooling": "gộp",
    "positional encoding": "mã hoá vị trí",
    "receptive field": "vùng tiếp nhận",
    "rectified linear unit": "ReLU",
    "recurrent neural network": "mạng nơ-ron hồi tiếp",
    "reduce-scatter": "reduce-scatter",
    "regularisation": "chính quy hoá",
    "reset gate": "cổng đặt lại",
    "residual connection": "kết nối phần dư",
    "roofline model": "mô hình mái nhà",
    "saddle point": "điểm yên ngựa",
    "saturation": "bão hoà",
    "scaled dot product": "tích vô hướng có chia tỉ lệ",
    "self-attention": "tự chú ý",
    "softmax": "hàm softmax",
    "speed-up": "tăng tốc",
    "stochastic gradient descent": "hạ gradient ngẫu nhiên",
    "stride": "bước nhảy",
    "teacher forcing": "teacher forcing",
    "temperature": "nhiệt độ",
    "throughput": "thông lượng",
    "token": "token",
    "truncated backpropagation through time": "lan truyền ngược theo thời gian bị cắt xén",
    "universal approximation theorem": "định lý xấp xỉ phổ quát",
    "update gate": "cổng cập nhật",
    "vanishing gradient": "tiêu biến gradient",
    "vector": "véc-tơ",
    "warm-up": "khởi động",
    "warp": "warp",
    "weight": "trọng số",
    "weight decay": "suy giảm trọng số",
    "weight initialisation": "khởi tạo trọng số",
    "Xavier initialisation": "khởi tạo Xavier",
}


def vietnamese(term: str) -> str:
    """The Vietnamese name the book gives the glossary term ``term`` (its English headword, exactly).

    >>> vietnamese("bias"), vietnamese("cross-entropy")
    ('hệ số điều chỉnh', 'entropy chéo')
    >>> vietnamese("biass")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: 'biass' is not a glossary term (did you mean 'bias'?); terms are defined in book/glossary.md ...
    """
    try:
        return TERMS[term]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(term), TERMS, n=3)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        raise ValueError(f"{term!r} is not a glossary term{hint}; terms are defined in book/glossary.md "
                         "(its headwords) and copied into dlcourse.vietnamese.glossary.TERMS") from None
