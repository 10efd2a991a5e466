"""dlcourse.models: parameter counts equal the reference implementations; forward passes run."""

import pytest
import torch

from dlcourse import models
from dlcourse.calc import summarize

# Reference parameter counts (torchvision's models, and LeNet-5 on 32x32 with 10 classes).
REFERENCE_PARAMS = {
    "lenet5": 61_706,
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "googlenet": 6_624_904,
    "resnet50": 25_557_032,
    "mobilenet_v1": 4_231_976,
    "mobilenet_v2": 3_504_872,
}


def build_on_meta(name, **kwargs):
    with torch.device("meta"):
        return getattr(models, name)(**kwargs)


@pytest.mark.parametrize("name, expected", REFERENCE_PARAMS.items())
def test_parameter_counts_equal_the_reference(name, expected):
    model = build_on_meta(name)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_one_registry_lists_every_model_and_build_reads_it():
    assert list(models.MODELS) == list(REFERENCE_PARAMS)            # every model, oldest first
    for key, info in models.MODELS.items():
        assert info.key == key and info.builder is getattr(models, key)
        model = models.build(key, device="meta")
        assert not model.training
        assert tuple(model(torch.empty(1, *info.input_shape, device="meta")).shape)[0] == 1
    with pytest.raises(ValueError, match="unknown model 'lenet6'; known: lenet5, alexnet"):
        models.build("lenet6")


def test_googlenet_auxiliary_classifiers():
    model = build_on_meta("googlenet", aux_classifiers=True)
    # each auxiliary head: 1x1 conv to 128 (no bias) + batch norm, FC 2048 -> 1024, FC 1024 -> 1000
    head = lambda channels: channels * 128 + 2 * 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000  # noqa: E731
    assert sum(p.numel() for p in model.parameters()) == 6_624_904 + head(512) + head(528) == 13_004_888
    outputs = model.train()(torch.empty(2, 3, 224, 224, device="meta"))
    assert [tuple(o.shape) for o in outputs] == [(2, 1000)] * 3
    assert tuple(model.eval()(torch.empty(2, 3, 224, 224, device="meta")).shape) == (2, 1000)


def test_googlenet_can_use_the_papers_5x5_branch():
    paper = sum(p.numel() for p in models.GoogLeNet(five_by_five=5).parameters())
    # every "5x5" convolution gains 16 weights per input-output channel pair over 3x3
    pairs = sum(i * o for i, o in [(16, 32), (32, 96), (16, 48), (24, 64), (24, 64), (32, 64), (32, 128), (32, 128),
                                   (48, 128)])
    assert paper == 6_624_904 + 16 * pairs


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "googlenet", "resnet50", "mobilenet_v1", "mobilenet_v2"])
def test_imagenet_models_give_one_score_per_class(name):
    model = build_on_meta(name, num_classes=17).eval()
    assert tuple(model(torch.empty(3, 3, 224, 224, device="meta")).shape) == (3, 17)


def test_small_models_run_for_real():
    torch.manual_seed(0)
    lenet = models.lenet5()
    assert lenet(torch.randn(4, 1, 32, 32)).shape == (4, 10)
    mobile = models.mobilenet_v2(num_classes=5).eval()
    with torch.no_grad():
        out = mobile(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 5) and torch.isfinite(out).all()


@pytest.mark.parametrize(
    "name, low, high",
    [("resnet50", 4.0e9, 4.2e9), ("mobilenet_v1", 5.6e8, 5.8e8), ("vgg16", 15.3e9, 15.6e9),
     ("mobilenet_v2", 2.9e8, 3.1e8)],
)
def test_macs_agree_with_the_published_figures(name, low, high):
    # published: ResNet-50 about 4.1 G, MobileNet v1 569 M, VGG-16 about 15.5 G, MobileNet v2 300 M
    assert low < summarize(build_on_meta(name).eval(), (1, 3, 224, 224)).macs < high


def test_depthwise_separable_cost_ratio_on_a_real_mobilenet_layer():
    """1/N + 1/k^2 of a standard convolution, checked on MobileNet v1's 512 -> 512 block at 14 x 14."""
    block = models.MobileNetV1().features[7]  # DepthwiseSeparable(512, 512, stride 1)
    separable = summarize(block, (1, 512, 14, 14)).macs
    standard = summarize(torch.nn.Conv2d(512, 512, 3, padding=1, bias=False), (1, 512, 14, 14)).macs
    assert separable == 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14
    assert separable / standard == pytest.approx(1 / 512 + 1 / 9)


def test_googlenet_as_the_paper_lays_it_out():
    """5 x 5 kernels, biases, no batch norm: every parameter counted by hand, block by block."""
    blocks = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), (480, 192, 96, 208, 16, 48, 64),
              (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64), (512, 112, 144, 288, 32, 64, 64),
              (528, 256, 160, 320, 32, 128, 128), (832, 256, 160, 320, 32, 128, 128),
              (832, 384, 192, 384, 48, 128, 128)]

    def conv(c_in, c_out, k):
        return c_out * (c_in * k * k + 1)

    expected = conv(3, 64, 7) + conv(64, 64, 1) + conv(64, 192, 3) + 1024 * 1000 + 1000
    for c_in, c1, c3r, c3, c5r, c5, pool in blocks:
        expected += conv(c_in, c1, 1) + conv(c_in, c3r, 1) + conv(c3r, c3, 3) + conv(c_in, c5r, 1) + conv(c5r, c5, 5)
        expected += conv(c_in, pool, 1)
    with torch.device("meta"):
        model = models.googlenet(paper=True)
    assert sum(p.numel() for p in model.parameters()) == expected == 6_998_552
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_lenet5_as_the_paper_builds_it():
    """The paper states each layer's trainable parameters (Section II.B); its C3 table has 60 links."""
    assert sum(len(inputs) for inputs in models.LENET5_C3_TABLE) == 60
    assert sorted(len(inputs) for inputs in models.LENET5_C3_TABLE) == [3] * 6 + [4] * 9 + [6]
    assert len(set(models.LENET5_C3_TABLE)) == 16
    assert models.lenet5_paper_parameters() == {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164}
    full = sum(p.numel() for p in models.lenet5().parameters())
    assert full == 61_706 and sum(models.lenet5_paper_parameters().values()) == 60_000
