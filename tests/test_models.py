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
