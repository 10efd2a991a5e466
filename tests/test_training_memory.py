"""training_memory and max_batch_size: saved activations against real CPU forward passes, the rest by hand."""

import resource

import pytest
import torch
from torch import nn
from torch.autograd.graph import saved_tensors_hooks

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
