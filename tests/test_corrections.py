"""The lecturer's corrections of issue 25: each false statement, recomputed here, and the page's new wording.

Every number is computed again in this file, by hand or with NumPy/PyTorch, never read from
the chapter's own code; the page is then checked for the corrected sentence and against the
old, false one.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"


def prose(chapter: str) -> str:
    """The chapter's text with its line breaks folded into spaces."""
    return " ".join((BOOK / f"{chapter}.md").read_text(encoding="utf-8").split())


# ---------------------------------------------------------------- the worked exam

def test_the_keys_layer_5_count_is_no_fully_connected_layer():
    key = 165_195_264
    weights = key - 4_096                        # n inputs × 4,096 outputs, plus 4,096 biases
    assert weights == 165_191_168
    assert weights % 4_096 == 3_584              # 40,329.875 × 4,096: no whole number of inputs
    assert 40_329 * 4_096 + 4_096 == 165_191_680 != key
    text = prose("exam_worked")
    assert "40,329" not in text and "key_fc5_inputs" not in text
    assert "is no multiple of 4,096" in text


def test_four_of_the_keys_3a_terms_match_no_computation():
    # layer 5's MACs: 30·30·48 inputs times 4,096 outputs (29·29·48 with the key's floor)
    assert 30 * 30 * 48 * 4_096 == 176_947_200
    assert 29 * 29 * 48 * 4_096 == 165_347_328   # the key's own 29 × 29 does not give 165,191,168 either
    assert 165_191_168 % 4_096 != 0
    text = prose("exam_worked")
    assert "four of them (layers 1, 2, 3 and 5) match no computation" in text
    assert "three of them" not in text


# ---------------------------------------------------------------- recurrent networks

def test_a_jacobian_norm_above_one_does_not_force_explosion():
    a, b = np.diag([1.1, 0.1]), np.diag([0.1, 1.1])
    assert np.isclose(np.linalg.norm(a, 2), 1.1) and np.isclose(np.linalg.norm(b, 2), 1.1)
    product = np.linalg.matrix_power(b @ a, 25)  # 50 steps, in turn
    assert np.linalg.norm(product, 2) < 1e-23     # 0.11 ** 25 ≈ 1.1e-24, not 1.1 ** 50 ≈ 117
    text = prose("recurrent")
    assert "By how much at most" in text and "By at most $0.9^{50} =$" in text
    assert "nothing forces it up" in text
    assert "(exploding)" not in text


# ---------------------------------------------------------------- attention

def test_the_state_that_is_read_has_just_read_the_next_digit():
    text = prose("attention")
    assert "has just read $x_{j+1}$, and it read $x_j$ one step earlier" in text
    assert "has just read $x_j$" not in text


def test_the_words_for_the_heat_map_match_its_colours():
    blues = matplotlib.colormaps["Blues"]        # the colour map of seq2seq.alignment_figure
    assert "cmap=\"Blues\"" in (REPO / "dlcourse" / "lessons" / "attention.py").read_text(encoding="utf-8")
    luminance = [np.dot(blues(w)[:3], [0.2126, 0.7152, 0.0722]) for w in (0.0, 1.0)]
    assert luminance[1] < luminance[0]           # more weight is darker
    text = prose("attention")
    assert "Darker is more weight" in text
    assert not re.search(r"\bbright cells\b", text)


def test_no_unmeasured_reading_of_blurred_rows_or_of_bahdanaus_reason():
    text = prose("attention")
    assert "that is where its mistakes are" not in text
    assert "This is why Bahdanau" not in text


# ---------------------------------------------------------------- GPUs

def test_ddp_puts_resnet50s_gradient_in_five_buckets_as_its_rule_says():
    from dlcourse.hardware.parallel import ddp_bucket_sizes
    from dlcourse.models import resnet50

    measured = ddp_bucket_sizes("resnet50")
    grads = [4 * p.numel() for p in resnet50().parameters()]
    # the rule, by hand: gradients arrive last layer first; a bucket closes after the tensor that
    # takes it past its cap, 1 MiB for the first bucket, 25 MiB after that
    expected, filled, cap = [], 0, 2**20
    for size in reversed(grads):
        filled += size
        if filled >= cap:
            expected.append(filled)
            filled, cap = 0, 25 * 2**20
    expected += [filled] if filled else []
    assert len(measured) == len(expected) == 5
    assert measured[0] == expected[0] == 4 * (2048 * 1000 + 1000)   # the classifier's weight and bias
    assert sum(measured) == sum(grads)
    text = prose("gpus")
    assert "{glue:text}`buckets` buckets" in text and "parallel.ddp_bucket_sizes(\"resnet50\"" in text
    assert "math.ceil(4 * n_params" not in text


def test_the_im2latex_splits_add_up():
    assert 83_883 + 9_319 + 10_354 == 103_556    # Deng et al.'s release
    assert 65_995 + 8_181 + 8_301 == 82_477      # the paper's filtered split
    text = prose("gpus")
    assert "103,556 formulas split into 65,995" not in text
    assert "filtered split of 65,995, 8,181 and 8,301 (82,477 formulas)" in text


def test_dataparallel_runs_a_thread_per_device():
    import inspect

    from torch.nn.parallel import parallel_apply

    assert "threading.Thread" in inspect.getsource(parallel_apply)  # one thread per replica (device)
    text = prose("gpus")
    assert "whose one Python thread feeds every GPU" not in text
    assert "one thread per GPU" in text


# ---------------------------------------------------------------- optimisers

def _torch_path(make, steps=60, start=(-4.5, 1.0)):
    import torch

    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = make([w])
    path = [w.detach().clone().numpy()]
    for _ in range(steps):
        optimizer.zero_grad()
        (w[0] ** 2 / 20 + 2 * w[1] ** 2).backward()   # the ravine, written again
        optimizer.step()
        path.append(w.detach().clone().numpy())
    return np.array(path)


def test_the_ravine_caption_says_what_torch_optim_does_on_the_ravine():
    import torch

    paths = {"SGD": _torch_path(lambda p: torch.optim.SGD(p, lr=0.45)),
             "momentum": _torch_path(lambda p: torch.optim.SGD(p, lr=0.045, momentum=0.9)),
             "Nesterov": _torch_path(lambda p: torch.optim.SGD(p, lr=0.045, momentum=0.9, nesterov=True)),
             "RMSprop": _torch_path(lambda p: torch.optim.RMSprop(p, lr=0.05)),
             "Adam": _torch_path(lambda p: torch.optim.Adam(p, lr=0.3))}
    crossings = {o: int(np.sum(np.sign(p[1:, 1]) != np.sign(p[:-1, 1]))) for o, p in paths.items()}
    distance = {o: float(np.linalg.norm(p[-1])) for o, p in paths.items()}
    assert crossings["SGD"] == 60                        # y times -0.8 at every step
    assert crossings["RMSprop"] == 0 and min(crossings[o] for o in ("momentum", "Nesterov", "Adam")) > 0
    assert min(distance, key=distance.get) == "Nesterov"
    assert paths["Adam"][:, 0].max() > 0.5 > max(paths[o][:, 0].max() for o in ("SGD", "momentum", "RMSprop"))
    text = prose("optimisers")
    assert "momentum and Nesterov overshoot along the floor then settle" not in text
    assert "RMSprop and Adam head for the minimum more directly" not in text
    assert "overshoots the minimum along the floor" in text


def test_warm_up_is_not_justified_by_batch_norms_running_means():
    text = prose("optimisers")
    assert "batch norm's running means are still unreliable" not in text
    assert "{cite}`liu2020radam`" in text
    assert "@inproceedings{liu2020radam," in (BOOK / "references.bib").read_text(encoding="utf-8")


def test_rmsprop_and_adamw_are_said_to_be_pytorchs_forms():
    import inspect

    import torch

    assert inspect.signature(torch.optim.RMSprop).parameters["alpha"].default == 0.99
    w = torch.ones(1, requires_grad=True)                  # AdamW with no gradient: w times 1 - lr * lambda
    optimizer = torch.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    w.grad = torch.zeros(1)
    optimizer.step()
    assert abs(w.item() - (1 - 0.1 * 0.5)) < 1e-7
    text = prose("optimisers")
    assert "$\\alpha = 0.99$ is PyTorch's default (Hinton's lecture used 0.9)" in text
    assert "$1 - \\eta\\lambda$ in PyTorch, where the learning rate multiplies $\\lambda$" in text


# ---------------------------------------------------------------- the GRU's reset gate

def test_pytorchs_gru_applies_the_reset_gate_after_the_recurrent_product():
    import torch

    torch.manual_seed(0)
    cell = torch.nn.GRUCell(3, 4)
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    W_ir, W_iz, W_in = cell.weight_ih.chunk(3)
    W_hr, W_hz, W_hn = cell.weight_hh.chunk(3)
    b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
    with torch.no_grad():
        r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
        z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
        after = torch.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))      # PyTorch, cuDNN
        before = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)     # Cho et al.
        expected = cell(x, h)
        assert torch.allclose((1 - z) * after + z * h, expected, atol=1e-6)
        assert not torch.allclose((1 - z) * before + z * h, expected, atol=1e-3)
    text = prose("recurrent")
    assert "A second difference is not a convention" in text


# ---------------------------------------------------------------- GoogLeNet

def test_googlenet_as_counted_has_no_lrn_and_dropout_0_2():
    from torch import nn

    from dlcourse.models import googlenet

    modules = list(googlenet().modules())
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in modules)
    assert [m.p for m in modules if isinstance(m, nn.Dropout)] == [0.2]
    text = prose("cnn_architectures")
    assert "differs from the paper in four ways" in text and "is 0.2, not 0.4" in text


def test_amdahls_law_is_stated_and_the_case_study_reading_is_a_hypothesis():
    p, n = 0.6, 4                                     # Amdahl's bound, by hand
    assert abs(1 / ((1 - p) + p / n) - 1.818) < 1e-3 and 1 / (1 - p) == 2.5
    text = prose("gpus")
    assert "Why four GPUs gave about 2×: a hypothesis." in text
    assert "$1 / ((1 - p) + p / n)$, never more than $1 / (1 - p)$" in text
    assert "feeding the GPUs and computing never overlap" in text


def test_model_parallelism_is_more_than_pipelines():
    text = prose("gpus")
    for cited in ("chen2016checkpointing", "rajbhandari2020zero", "shoeybi2019megatron"):
        assert f"{{cite}}`{cited}`" in text
        assert f"{{{cited}," in (BOOK / "references.bib").read_text(encoding="utf-8")
    assert "Pipelines are not the first answer to a model that does not fit" in text


def test_heavy_ball_is_underdamped_across_the_ravine_and_slower_there_than_sgd():
    def decay(h, lr, mu, steps=2000):        # heavy ball on e -> h e^2 / 2, simulated; rate per step
        e, buffer, sizes = 1.0, 0.0, []
        for _ in range(steps):
            buffer = mu * buffer + h * e
            e -= lr * buffer
            sizes.append(abs(e))
        # envelopes of the oscillation, over windows longer than its slowest period (about 140 steps)
        peaks = [max(sizes[i:i + 300]) for i in (1000, 1700)]
        return (peaks[1] / peaks[0]) ** (1 / 700)

    across, along = decay(4.0, 0.045, 0.9), decay(0.1, 0.045, 0.9)
    assert abs(across - 0.9487) < 2e-3 and abs(along - 0.9487) < 2e-3   # sqrt(0.9): underdamped
    assert across > abs(1 - 0.45 * 4) == 0.8                           # slower across than SGD
    assert along < 1 - 0.45 * 0.1                                       # a little faster along
    text = prose("optimisers")
    assert "(across a ravine) cancel" not in text
    assert "*underdamped*" in text and "that is *slower* than plain SGD's" in text


# ---------------------------------------------------------------- preface and the GPU chapter's machine

def test_no_promise_of_an_unwritten_chapter_or_of_seconds_and_no_build_machines_cores():
    assert "still to be written" not in prose("preface")
    assert "every chapter runs" not in prose("preface") or "in seconds" not in prose("preface")
    assert "the same two cores" not in prose("gpus")


def test_adams_uncorrected_step_peaks_at_t_12():
    import torch

    # Adam without bias correction, by hand with torch tensors: m / sqrt(v) for a constant gradient 2
    t = torch.arange(1, 1001, dtype=torch.float64)
    m, v = 2 * (1 - 0.9 ** t), 4 * (1 - 0.999 ** t)
    step = m / v.sqrt()
    assert int(step.argmax()) + 1 == 12 and abs(float(step.max()) - 6.5685) < 1e-4
    text = prose("optimisers")
    assert "to a peak of {glue:text}`adam_peak:.2f` times the learning rate" in text


def test_the_counts_say_what_they_count():
    import torch

    layer = torch.nn.Linear(1000, 1000)
    n = sum(p.numel() for p in layer.parameters())
    assert n == 1_001_000 and n * n == 1_002_001_000_000        # biases included: say so
    assert "the Hessian of its parameters (weights and biases)?" in prose("optimisers")
    T, E = 4096, 256                                             # four projections and two products
    assert (4 * T * E * E + 2 * T * T * E) / 1e9 > 9.6
    assert "one attention sublayer (its four projections and its two products" in prose("attention")


def test_tf32_defaults_are_as_the_gpu_chapter_says():
    import torch

    assert torch.backends.cudnn.allow_tf32 is True                 # convolutions: on by default
    assert torch.backends.cuda.matmul.allow_tf32 is False          # matrix products: off by default
    assert torch.get_float32_matmul_precision() == "highest"
    text = prose("gpus")
    assert "**TF32**" in text and "Why a 16-bit format can be *slower* than float32 on a CPU" in text


def test_bptt_multiplies_the_newest_jacobian_on_the_left():
    import torch

    torch.manual_seed(0)
    W = torch.randn(3, 3, dtype=torch.float64)
    s0 = torch.randn(3, dtype=torch.float64)

    def unroll(s):
        states = [s]
        for _ in range(3):
            states.append(torch.tanh(W @ states[-1]))
        return states

    jacobian = torch.autograd.functional.jacobian(lambda s: unroll(s)[-1], s0)
    states = unroll(s0)
    steps = [torch.diag(1 - states[k] ** 2) @ W for k in (3, 2, 1)]      # newest first
    assert torch.allclose(jacobian, steps[0] @ steps[1] @ steps[2])
    assert not torch.allclose(jacobian, steps[2] @ steps[1] @ steps[0])
    assert "the newest step's Jacobian stands on the left" in prose("recurrent")


def test_per_weight_rates_see_the_valley_only_when_it_lies_along_the_axes():
    def adagrad_sums(rotation, steps=50, lr=0.5):
        c, s = np.cos(rotation), np.sin(rotation)
        R = np.array([[c, -s], [s, c]])
        H = R @ np.diag([0.1, 4.0]) @ R.T              # the ravine's curvatures, turned by `rotation`
        w, G = np.array([-4.5, 1.0]), np.zeros(2)
        for _ in range(steps):
            g = H @ w
            G += g * g
            w = w - lr * g / (np.sqrt(G) + 1e-10)
        return G

    aligned, tilted = adagrad_sums(0.0), adagrad_sums(np.pi / 4)
    assert aligned[1] / aligned[0] > 10                 # the steep weight's sum is far larger
    assert 0.5 < tilted[1] / tilted[0] < 2              # tilted: both weights see both directions
    assert "tilt it by 45°" in prose("optimisers")


# ---------------------------------------------------------------- foundations taught where first used

def test_the_hessian_and_its_eigenvectors_are_taught_before_the_learning_rate_limit():
    text = prose("neural_nets")
    assert text.index("eigenvector") < text.index("2 / \\lambda_\\text{max}")
    # a 2 x 2 Hessian: its eigenvectors are the directions of extreme curvature, v^T H v
    H = np.array([[3.0, 1.0], [1.0, 3.0]])
    values, vectors = np.linalg.eigh(H)
    assert np.allclose(values, [2.0, 4.0])
    for value, vector in zip(values, vectors.T):
        assert np.isclose(vector @ H @ vector, value)


def test_an_ema_starts_biased_towards_zero_by_beta_to_the_t():
    text = prose("optimisers")
    assert "Exponential moving average" in text or "exponential moving average" in text
    beta, ema = 0.9, 0.0
    for _ in range(5):
        ema = beta * ema + (1 - beta) * 1.0
    assert np.isclose(ema, 1 - beta ** 5)                  # the weights sum to 1 - beta^t
    assert np.isclose(ema / (1 - beta ** 5), 1.0)          # bias correction undoes it


def test_the_noise_of_a_mean_of_b_gradients_falls_as_one_over_b():
    assert "\\frac{\\sigma^2}{B}" in prose("optimisers")
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(20_000, 64))
    for batch in (1, 4, 16, 64):
        means = samples[:, :batch].mean(axis=1)
        assert abs(means.var() - 1 / batch) < 0.1 / batch


def test_the_chain_rule_multiplies_jacobians_in_order():
    import torch

    assert "Jacobian" in prose("backprop").split("Step 1")[0]
    x = torch.tensor([0.3, -0.2], requires_grad=True)
    W = torch.tensor([[1.0, 2.0], [-1.0, 0.5]])
    y = torch.tanh(W @ x)
    J_by_hand = torch.diag(1 - y.detach() ** 2) @ W          # d tanh(u)/du times du/dx
    J = torch.autograd.functional.jacobian(lambda v: torch.tanh(W @ v), x)
    assert torch.allclose(J, J_by_hand)


def test_an_embedding_lookup_is_a_one_hot_vector_times_the_table():
    import torch

    text = prose("recurrent")
    assert "one-hot" in text and "nn.Embedding" in text
    table = torch.nn.Embedding(5, 3)
    tokens = torch.tensor([3, 0, 3])
    product = torch.nn.functional.one_hot(tokens, 5).float() @ table.weight
    assert torch.equal(table(tokens), product)


def test_truncated_bptt_sends_no_gradient_past_the_detached_state():
    import torch

    assert "h.detach()" in prose("recurrent")
    cell = torch.nn.RNNCell(2, 3)
    inputs = torch.randn(8, 2, requires_grad=True)
    h = None
    for t in range(8):
        if t == 4:
            h = h.detach()
        h = cell(inputs[t], h)
    h.sum().backward()
    reached = inputs.grad.abs().sum(dim=1) > 0
    assert reached.tolist() == [False] * 4 + [True] * 4


def test_teacher_forcing_and_layer_normalisation_are_defined_in_the_attention_chapter():
    import torch

    text = prose("attention")
    assert "teacher forcing" in text.lower() and "layer normalisation" in text.lower()
    x = torch.tensor([[1.0, 2.0, 3.0, 6.0]])
    by_hand = (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + 1e-5)
    assert torch.allclose(torch.nn.LayerNorm(4)(x), by_hand, atol=1e-6)


def test_the_gpu_chapter_teaches_its_execution_model_formats_collectives_and_processes():
    import torch

    text = prose("gpus")
    for words in ("warps", "blocks", "global interpreter lock", "reduce-scatter", "all-gather", "broadcast"):
        assert words in text, words
    # formats from their bits: (exponent, mantissa) -> eps, max, smallest normal
    for dtype, (e, m) in {torch.float32: (8, 23), torch.bfloat16: (8, 7), torch.float16: (5, 10)}.items():
        bias = 2 ** (e - 1) - 1
        info = torch.finfo(dtype)
        assert (info.eps, info.max, info.tiny) == (2.0 ** -m, (2 - 2.0 ** -m) * 2.0 ** bias, 2.0 ** (1 - bias))
    # an all-reduce is a reduce-scatter followed by an all-gather
    parts = [torch.arange(4.0) + 10 * rank for rank in range(4)]
    total = sum(parts)
    assert torch.equal(torch.cat(list(total.chunk(4))), total)


def test_the_bend_of_the_gradient_norm_curves_is_explained_by_the_zero_start():
    import torch

    text = prose("recurrent")
    assert "It is the start of the sequence that matters, not the distance" in text
    # a tanh RNN with W = 2Q: slopes near 1 after the first step, saturated later
    torch.manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(16, 16))
    cell = torch.nn.RNNCell(4, 16, nonlinearity="tanh")
    with torch.no_grad():
        cell.weight_hh.copy_(2 * q)
        cell.bias_hh.zero_()
        cell.bias_ih.zero_()
        h, slopes = torch.zeros(1, 16), []
        for x in torch.randn(40, 1, 4):
            h = cell(x, h)
            slopes.append((1 - h ** 2).mean().item())
    assert slopes[0] > np.mean(slopes[9:]) + 0.2
