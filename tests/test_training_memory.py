"""training_memory and max_batch_size: saved activations against real CPU forward passes, the rest by hand."""

import contextlib
import resource

import pytest
import torch
from torch import nn
from torch.autograd.graph import saved_tensors_hooks
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.checkpoint import checkpoint
from torch.utils.flop_counter import FlopCounterMode

from dlcourse.calc import TrainingMemory, max_batch_size, training_memory
from dlcourse.calc.cli import main
from dlcourse.models import lenet5, resnet50
from dlcourse.models.resnet import Bottleneck


def measured_saved_bytes(module, *inputs):
    """Bytes of the distinct storages autograd saves in a real CPU forward pass, parameters left out."""
    module.train()
    parameter_storages = {p.untyped_storage().data_ptr() for p in module.parameters()}
    storages, kept = {}, []

    def pack(tensor):
        kept.append(tensor)  # keep it alive so that no address is reused during the forward
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.enable_grad(), saved_tensors_hooks(pack, lambda tensor: tensor):
        module(*inputs)
    assert storages, "the measurement saw no saved tensor"
    return sum(nbytes for pointer, nbytes in storages.items() if pointer not in parameter_storages)


def mlp():
    return nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Dropout(0.25), nn.Conv2d(8, 16, 3), nn.ReLU())
        self.head = nn.Linear(16 * 6 * 6, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


class ResidualBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + x)


class TiedLanguageModel(nn.Module):
    def __init__(self, vocabulary=100, width=8):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, width)
        self.head = nn.Linear(width, vocabulary, bias=False)
        self.head.weight = self.embedding.weight

    def forward(self, ids):
        return self.head(self.embedding(ids))


class LastOutput(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


def randn(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


CASES = {
    "mlp": (mlp, (8, 10)),
    "cnn": (SmallCNN, (4, 3, 16, 16)),
    "lenet5": (lenet5, (2, 1, 32, 32)),
    "residual block": (ResidualBlock, (2, 8, 10, 10)),
    "bottleneck with projection": (lambda: Bottleneck(16, 8, stride=2), (2, 16, 12, 12)),
    "resnet50": (resnet50, (1, 3, 64, 64)),
    "transformer encoder layer": (lambda: nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), (3, 7, 32)),
    "gru": (lambda: LastOutput(nn.GRU(6, 12, batch_first=True)), (2, 9, 6)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_activations_equal_the_tensors_saved_by_a_real_cpu_forward(name):
    build, size = CASES[name]
    torch.manual_seed(0)
    module = build()
    expected = measured_saved_bytes(module, randn(*size))
    assert training_memory(module, size).activations == expected


@pytest.mark.filterwarnings("ignore:TF32 acceleration")
def test_lstm_follows_the_portable_cpu_implementation():
    # oneDNN (the CPU's default for float32) keeps a workspace of its own; the convention is PyTorch's
    # portable LSTM, which is what the CPU runs with oneDNN switched off
    module = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    with torch.backends.mkldnn.flags(enabled=False):
        expected = measured_saved_bytes(module, randn(3, 5, 8))
    assert training_memory(module, (3, 5, 8)).activations == expected


def test_mlp_by_hand():
    memory = training_memory(mlp(), (8, 10), optimizer="adam")
    # 10*20 + 20 + 20*5 + 5 = 325 parameters; saved: the input (8x10) and the ReLU's output (8x20)
    assert (memory.params, memory.gradients, memory.optimizer_state) == (1300, 1300, 2600)
    assert memory.activations == 4 * (8 * 10 + 8 * 20)
    assert memory.total == 1300 + 1300 + 2600 + 960
    assert training_memory(mlp(), (8, 10), optimizer="sgd").optimizer_state == 0
    assert training_memory(mlp(), (8, 10), optimizer="momentum").optimizer_state == 1300


def test_frozen_parameters_have_no_gradient_or_state():
    module = mlp()
    module[0].requires_grad_(False)  # 220 frozen, 105 trainable
    memory = training_memory(module, (8, 10), optimizer="adam")
    assert (memory.params, memory.gradients, memory.optimizer_state) == (1300, 420, 840)
    # the first Linear no longer needs its input: only the ReLU's output is saved
    assert memory.activations == 4 * 8 * 20 == measured_saved_bytes(module, randn(8, 10))


def test_tied_weights_count_once_and_token_ids_keep_their_size():
    module = TiedLanguageModel()
    memory = training_memory(module, (2, 5), optimizer="adam", dtype=torch.long)
    assert (memory.params, memory.gradients, memory.optimizer_state) == (3200, 3200, 6400)  # 100 x 8 once
    ids = torch.randint(0, 100, (2, 5))
    assert memory.activations == 2 * 5 * 8 + 2 * 5 * 8 * 4 == measured_saved_bytes(module, ids)
    half = training_memory(module, (2, 5), dtype=torch.long, bytes_per_value=2)
    assert (half.params, half.activations) == (1600, 2 * 5 * 8 + 2 * 5 * 8 * 2)  # ids stay 8 bytes each
    own = training_memory(module.half(), (2, 5), dtype=torch.long, bytes_per_value=None)
    assert own.params == 1600


def test_the_module_is_not_changed():
    torch.manual_seed(0)
    shared = nn.Linear(6, 6)
    module = nn.Sequential(shared, nn.BatchNorm1d(6), nn.ReLU(), shared, nn.Dropout(0.5))
    calls = []
    handle = module[1].register_forward_hook(lambda *args: calls.append(1))
    module.eval()
    before = {key: value.clone() for key, value in module.state_dict().items()}
    hooks = dict(module[1]._forward_hooks)
    memory = training_memory(module, (4, 6), optimizer="adam")
    assert memory.params == (36 + 6 + 12) * 4  # the shared Linear once, plus BatchNorm's weight and bias
    assert module.training is False and all(not sub.training for sub in module.modules())
    assert dict(module[1]._forward_hooks) == hooks and module[0] is module[3]
    after = module.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[key], after[key]) for key in before)
    assert all(p.device.type == "cpu" and p.grad is None for p in module.parameters())
    handle.remove()


def test_max_batch_size_by_hand():
    # momentum: 3 x 1300 B fixed; every sample saves its input (10 values) and ReLU output (20): 120 B
    fixed, per_sample = 3 * 1300, 4 * (10 + 20)
    memory = fixed + per_sample * 50 + per_sample - 1
    assert max_batch_size(mlp(), (10,), memory, optimizer="momentum") == 50
    assert training_memory(mlp(), (50, 10), "momentum").total == fixed + per_sample * 50 <= memory
    assert training_memory(mlp(), (51, 10), "momentum").total == fixed + per_sample * 51 > memory
    assert max_batch_size(mlp(), (10,), fixed + per_sample, optimizer="momentum") == 1


def test_max_batch_size_of_a_cnn_is_checked_exactly():
    module = SmallCNN()
    answer = max_batch_size(module, (3, 16, 16), 10 ** 6, optimizer="adam")
    assert training_memory(module, (answer, 3, 16, 16), "adam").total <= 10 ** 6
    assert training_memory(module, (answer + 1, 3, 16, 16), "adam").total > 10 ** 6


@pytest.mark.parametrize("call, message", [
    (lambda: training_memory(mlp(), (2, 10), optimizer="rmsprop"), "optimizer must be one of 'sgd'"),
    (lambda: training_memory(mlp(), (2, 10), bytes_per_value=0), "bytes_per_value must be a positive int"),
    (lambda: training_memory(mlp(), (2, 10), bytes_per_value=-4), "bytes_per_value must be a positive int"),
    (lambda: training_memory("mlp", (2, 10)), "needs a torch.nn.Module"),
    (lambda: training_memory(mlp(), (2, 11)), "cannot run on input of size (2, 11)"),
    (lambda: max_batch_size(mlp(), (10,), 4000, "momentum"), "even a batch of 1 needs 4,020 B"),
    (lambda: max_batch_size(mlp(), (10,), 0), "memory_bytes must be a positive int"),
    (lambda: max_batch_size(mlp(), "10", 10 ** 6), "sample_shape must be one sample's shape"),
])
def test_errors_say_what_was_wrong(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_result_is_frozen_and_prints_its_breakdown():
    memory = TrainingMemory(1300, 1300, 2600, 960, "adam")
    with pytest.raises(AttributeError):
        memory.params = 0
    text = str(memory)
    assert "optimizer state    2,600 B  (2.6 kB)" in text and "total              6,160 B  (6.2 kB)" in text


def test_cli_train_prints_the_breakdown(capsys):
    code = main(["--input", "10", "--batch", "8", "--train", "adam", "fc 20 relu", "fc 5"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert "training memory for one adam step at batch 8 (4 B per float value):" in out
    for line in ["parameters         1,300 B  (1.3 kB)", "optimizer state    2,600 B  (2.6 kB)",
                 "saved activations    960 B", "total              6,160 B  (6.2 kB)"]:
        assert line in out


def test_cli_train_for_a_network_pytorch_refuses(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--input", "3x8x8", "--train", "sgd", "avgpool 2 s2 p2"])
    _, err = capsys.readouterr()
    assert exit.value.code == 2 and "--train runs the network in PyTorch, which refuses it" in err


def test_gpt2_xl_sized_model_on_the_meta_device_allocates_nothing():
    width, layers, vocabulary, context = 1600, 48, 50257, 1024

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(vocabulary, width)
            self.positions = nn.Embedding(context, width)
            block = nn.TransformerEncoderLayer(width, 25, 4 * width, batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
            self.head = nn.Linear(width, vocabulary, bias=False)
            self.head.weight = self.tokens.weight

        def forward(self, ids):
            return self.head(self.blocks(self.tokens(ids) + self.positions.weight[: ids.shape[1]]))

    with torch.device("meta"):
        model = GPT()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    memory = training_memory(model, (1, context), optimizer="adam", dtype=torch.long)
    per_block = 4 * width * width + 4 * width + 2 * 4 * width * width + 4 * width + width + 4 * width
    count = vocabulary * width + context * width + layers * per_block
    assert abs(count - 1.6e9) < 0.05e9
    assert memory.params == 4 * count and memory.optimizer_state == 8 * count
    # every block saves at least its softmax output and its dropout mask: 25 x 1024 x 1024 floats each
    assert memory.activations > layers * 2 * 25 * context * context * 4
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 500_000


# Activation checkpointing: what torch.utils.checkpoint (use_reentrant=False) really keeps, measured by following
# every storage an operator creates with a weak reference and asking which are still alive.

class StorageTracker(TorchDispatchMode):
    """Records every storage an operator returns, weakly; ``alive_bytes`` sums those still alive."""

    def __init__(self):
        super().__init__()
        self.created = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in tree_leaves(out):
            if isinstance(value, torch.Tensor):
                storage = value.untyped_storage()
                self.created.append((StorageWeakRef(storage), storage._cdata, storage.nbytes()))
        return out

    def alive_bytes(self, leave_out=()):
        alive = {key: nbytes for ref, key, nbytes in self.created if not ref.expired() and key not in leave_out}
        return sum(alive.values())


class RecomputeTracker(StorageTracker):
    """checkpoint's recompute context: the storages a recomputation makes.  Those still alive at the next operator
    of the backward pass (checkpoint stops a recomputation by raising an exception, and what the exception's way
    out held is gone by then) are the tensors it saved again for the backward pass."""

    finished = []

    def __init__(self, leave_out):
        super().__init__()
        self.leave_out = leave_out

    def __exit__(self, *exc):
        RecomputeTracker.finished.append(self)
        return super().__exit__(*exc)


class AfterRecomputation(TorchDispatchMode):
    """Around the backward pass: at the first operator after a recomputation, the bytes it saved again."""

    def __init__(self):
        super().__init__()
        self.recomputed = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        while RecomputeTracker.finished:
            tracker = RecomputeTracker.finished.pop()
            self.recomputed.append(tracker.alive_bytes(tracker.leave_out))
        return func(*args, **(kwargs or {}))


def checkpointed_run(module, kinds, make_input):
    """A real CPU forward with every call of a module of ``kinds`` checkpointed, then the backward pass:
    (bytes kept after the forward, bytes saved again by each recomputation, MACs of the backward pass)."""
    module.train()
    params = {p.untyped_storage()._cdata for p in module.parameters()}

    def checkpointed(forward):
        def run(*args, **kwargs):
            # a recomputation saves its inputs again (detached: the same storage), which exist already
            inputs = {t.untyped_storage()._cdata for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
            return checkpoint(forward, *args, use_reentrant=False, **kwargs,
                              context_fn=lambda: (contextlib.nullcontext(), RecomputeTracker(params | inputs)))
        return run

    for sub in module.modules():
        if isinstance(sub, kinds):
            sub.forward = checkpointed(sub.forward)
    with StorageTracker() as tracker:
        inputs = make_input()
        output = module(inputs)
    del inputs
    kept = tracker.alive_bytes(params | {output.untyped_storage()._cdata})
    loss = output.sum()
    with FlopCounterMode(display=False) as backward, AfterRecomputation() as watcher:
        loss.backward()
    assert not RecomputeTracker.finished
    return kept, watcher.recomputed, backward.get_total_flops() // 2


class MLPBlock(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.norm, self.up, self.down = nn.LayerNorm(width), nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x):
        return x + self.down(torch.relu(self.up(self.norm(x))))


class Doubling(nn.Module):
    def forward(self, x):
        return x * 2  # saves nothing: a checkpoint around it keeps nothing either


class ResidualMLP(nn.Module):
    def __init__(self, layers=3, width=16):
        super().__init__()
        self.blocks = nn.Sequential(*[MLPBlock(width) for _ in range(layers)], Doubling())
        self.head = nn.Linear(width, 5)

    def forward(self, x):
        return self.head(self.blocks(x))


class SmallGPT(nn.Module):
    """Token and position embeddings, pre-LN encoder layers under a causal mask (made in the forward), a tied
    output layer; dropout 0.1, so that the CPU runs attention's math path as training_memory counts it."""

    def __init__(self, vocabulary=50, context=12, layers=2, width=16, heads=4):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocabulary, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(width, heads, 4 * width, activation="gelu",
                                                               batch_first=True, norm_first=True)
                                    for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary, bias=False)
        self.head.weight = self.tokens.weight

    def forward(self, ids):
        length = ids.shape[1]
        x = self.tokens(ids) + self.positions(torch.arange(length, device=ids.device))
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=ids.device)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.norm(x))


CHECKPOINT_CASES = {
    "residual MLP": (ResidualMLP, (MLPBlock, Doubling), torch.float32, (4, 7, 16),
                     lambda: randn(4, 7, 16)),
    "small GPT": (SmallGPT, (nn.TransformerEncoderLayer,), torch.long, (3, 12),
                  lambda: torch.randint(0, 50, (3, 12), generator=torch.Generator().manual_seed(0))),
}


@pytest.mark.parametrize("name", list(CHECKPOINT_CASES))
def test_checkpointing_counts_what_torch_utils_checkpoint_keeps_and_recomputes(name):
    build, kinds, dtype, size, make_input = CHECKPOINT_CASES[name]
    torch.manual_seed(0)
    module = build()
    plain = training_memory(module, size, dtype=dtype)
    memory = training_memory(module, size, dtype=dtype, checkpoint=kinds)
    # the storage tracker itself, first without checkpointing: it sees what saved_tensors_hooks see
    with StorageTracker() as tracker:
        inputs = make_input()
        output = module.train()(inputs)
    del inputs
    params = {p.untyped_storage()._cdata for p in module.parameters()}
    assert tracker.alive_bytes(params | {output.untyped_storage()._cdata}) == plain.activations
    with torch.device("meta"):
        twin = build()  # the same model on the meta device: FlopCounterMode's MACs of a plain backward pass
    twin.train()
    twin_input = torch.empty(size, dtype=dtype, device="meta")
    loss = twin(twin_input).sum()
    with FlopCounterMode(display=False) as plain_backward:
        loss.backward()
    kept, recomputed, backward_macs = checkpointed_run(module, kinds, make_input)
    assert kept == memory.activations - memory.recomputed_activations < plain.activations
    assert max(recomputed) == memory.recomputed_activations
    if name == "small GPT":  # the CPU's attention kernels are not all in FlopCounterMode: compare on meta
        backward_macs = checkpointed_run(twin, kinds, lambda: twin_input)[2]
    assert backward_macs - plain_backward.get_total_flops() // 2 == memory.recompute_macs
    assert memory.total == plain.total - plain.activations + memory.activations


def test_checkpointing_the_residual_mlp_by_hand():
    memory = training_memory(ResidualMLP(), (4, 7, 16), checkpoint=(MLPBlock, Doubling))
    values = 4 * 7  # positions; 16 features, 64 hidden
    # kept: the 3 blocks' inputs and the head's input (Doubling saves nothing, so its input is not kept for it)
    kept = 4 * (3 * values * 16 + values * 16)
    # one block recomputed: LayerNorm's mean and 1/std, its output, the ReLU's output (its input is kept already)
    again = 4 * (2 * values + values * 16 + values * 64)
    assert (memory.activations, memory.recomputed_activations) == (kept + again, again)
    # each recomputation stops once the ReLU output that ``down`` needs is saved again: only ``up`` is redone
    assert memory.recompute_macs == 3 * values * 16 * 64 and memory.checkpointed_calls == 4
    assert "checkpointing: 4 calls keep only their inputs; the backward pass recomputes 86,016 MACs" in str(memory)


def test_checkpointing_a_gpt2_sized_model_on_the_meta_device():
    with torch.device("meta"):
        model = SmallGPT(50257, 1024, 12, 768, 12)
    plain = training_memory(model, (1, 1024), "adam", dtype=torch.long)
    memory = training_memory(model, (1, 1024), "adam", dtype=torch.long, checkpoint=(nn.TransformerEncoderLayer,))
    assert memory.params == plain.params == 4 * 124_439_808 and memory.checkpointed_calls == 12
    assert memory.activations < plain.activations / 4
    # every block keeps its input, 1024 x 768 floats; one more is the final LayerNorm's input (the 12th output)
    assert memory.activations - memory.recomputed_activations >= 13 * 1024 * 768 * 4


def test_max_batch_size_with_checkpointing():
    module = ResidualMLP()
    plain = max_batch_size(module, (7, 16), 10 ** 6)
    answer = max_batch_size(module, (7, 16), 10 ** 6, checkpoint=(MLPBlock,))
    assert answer > plain
    assert training_memory(module, (answer, 7, 16), checkpoint=(MLPBlock,)).total <= 10 ** 6
    assert training_memory(module, (answer + 1, 7, 16), checkpoint=(MLPBlock,)).total > 10 ** 6


@pytest.mark.parametrize("checkpoint_argument, message", [
    ("MLPBlock", "checkpoint must be a tuple of torch.nn.Module classes"),
    ((int,), "checkpoint must be a tuple of torch.nn.Module classes"),
    ((nn.Conv2d,), "checkpoint=(Conv2d) matched no module that runs in the forward pass of ResidualMLP"),
])
def test_checkpoint_errors_say_what_was_expected(checkpoint_argument, message):
    with pytest.raises(ValueError) as error:
        training_memory(ResidualMLP(), (2, 16), checkpoint=checkpoint_argument)
    assert message in str(error.value)


def test_one_class_alone_is_a_checkpoint_tuple():
    assert training_memory(ResidualMLP(), (2, 16), checkpoint=MLPBlock) == \
        training_memory(ResidualMLP(), (2, 16), checkpoint=(MLPBlock,))
