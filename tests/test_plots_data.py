"""Figure helpers and generated data: shapes, contents and refusals."""

import numpy as np
import pytest

from dlcourse.data import two_spirals
from dlcourse.display.plots import curves_figure, fits_figure, function_and_derivative_figure
from dlcourse.lessons.conv_arithmetic import nested_fields_figure


def test_two_spirals_is_reproducible_and_balanced():
    x1, y1 = two_spirals(400, seed=3)
    x2, y2 = two_spirals(400, seed=3)
    assert x1.shape == (400, 2) and y1.shape == (400,)
    assert (x1 == x2).all() and (y1 == y2).all()
    assert 150 < int(y1.sum()) < 250
    with pytest.raises(ValueError, match="n must be at least 1"):
        two_spirals(0)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        two_spirals(10, noise=-1)


def test_figures_hold_what_they_were_given():
    fig = curves_figure([0, 1, 2], {"a": [1, 2, 3], "b": [3, 2, 1]}, logy=True)
    assert [line.get_label() for line in fig.axes[0].lines] == ["a", "b"]
    assert fig.axes[0].get_yscale() == "log"
    fig = fits_figure([0, 1], [1, 2], [0, 1], {"one": [1, 2], "two": [1, 1]})
    assert [ax.get_title() for ax in fig.axes] == ["one", "two"]
    assert len(nested_fields_figure().axes[0].patches) == 3


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: curves_figure([0, 1], {}), "at least one named curve"),
        (lambda: curves_figure([0, 1], {"a": [1]}), "curve 'a' has 1 values but x has 2"),
        (lambda: fits_figure([0], [0], [0], {}), "at least one named fit"),
        (lambda: function_and_derivative_figure(np.zeros(2), {"a": np.zeros(2)}, {"b": np.zeros(2)}), "same functions"),
    ],
)
def test_figure_helpers_refuse_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_conv_grid_figure_and_explorer(monkeypatch):
    from dlcourse.lessons.conv_arithmetic import conv_explorer, conv_grid_figure

    fig = conv_grid_figure(7, 3, stride=2, padding=1, position=(3, 3))
    left, right = fig.axes
    highlighted = [p for p in left.patches if p.get_facecolor()[:3] != left.patches[0].get_facecolor()[:3]]
    assert len(right.patches) == 4 * 4 and len(left.patches) == 9 * 9 + 9
    assert highlighted  # the window of output (3, 3)
    with pytest.raises(ValueError, match=r"position \(4, 0\) is outside the 4 x 4 output"):
        conv_grid_figure(7, 3, stride=2, padding=1, position=(4, 0))
    monkeypatch.setenv("DLCOURSE_BOOK_BUILD", "1")
    assert conv_explorer().axes[1].get_title() == "output 4 x 4"
    monkeypatch.delenv("DLCOURSE_BOOK_BUILD")
    import ipywidgets

    box = conv_explorer(size=5, kernel=3, stride=1, padding=0)
    assert isinstance(box, ipywidgets.VBox)
    sliders = box.children[0].children + box.children[1].children
    assert [s.value for s in sliders] == [5, 3, 1, 0, 1]
    sliders[1].value = 7  # larger than the input: the explorer prints the error instead of raising


def test_each_field_label_sits_in_its_own_ring():
    """Deep learning inside machine learning inside AI, as the caption says: every label is inside its own
    ellipse and outside the next one in (the figure once put each label one ellipse too far in)."""
    ax = nested_fields_figure().axes[0]
    ellipses = ax.patches  # outermost first, as the labels
    for index, label in enumerate(ax.texts):
        point = ax.transData.transform(label.get_position())
        assert ellipses[index].contains_point(point), label.get_text()
        if index + 1 < len(ellipses):
            assert not ellipses[index + 1].contains_point(point), label.get_text()


def test_architecture_labels_neither_overlap_nor_leave_the_axes():
    """Seven models whose points crowd together (the figure once clipped and overlapped labels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from dlcourse.lessons.cnn_architectures import architectures_figure

    names = ["LeNet-5", "AlexNet", "VGG-16", "GoogLeNet", "ResNet-50", "MobileNet v1", "MobileNet v2"]
    params = [61_706, 61_100_840, 138_357_544, 6_624_904, 25_557_032, 4_231_976, 3_504_872]
    macs = [416_520, 714_197_696, 15_483_862_016, 1_498_376_192, 4_089_184_256, 568_740_352, 300_774_272]
    fig = architectures_figure(names, params, macs, [None, 56.5, 71.6, 69.8, 76.1, 70.6, 71.9])
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = fig.axes[0]
    frame = ax.get_window_extent(renderer)
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in ax.texts}
    assert sorted(boxes) == sorted(names)
    for name, box in boxes.items():
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, name
        assert not any(box.overlaps(other) for other_name, other in boxes.items() if other_name != name), name
    points = ax.transData.transform(np.column_stack([macs, params]))
    for name, box in boxes.items():
        assert not any(box.contains(x, y) for x, y in points), name


def test_loss_and_accuracy_are_on_separate_labelled_axes():
    from dlcourse.display.plots import loss_and_accuracy_figure

    left, right = loss_and_accuracy_figure([1, 2, 3], [2.3, 0.5, 0.2], [0.1, 0.8, 0.95]).axes
    assert list(left.lines[0].get_ydata()) == [2.3, 0.5, 0.2]
    assert list(right.lines[0].get_ydata()) == pytest.approx([10, 80, 95])
    assert left.get_ylabel() and right.get_ylabel() and left.get_xlabel() == right.get_xlabel() == "epoch"
    with pytest.raises(ValueError, match="same length"):
        loss_and_accuracy_figure([1, 2], [1.0], [0.5, 0.6])
