"""The figure helpers of the GPU chapter (book/gpus.md): what they draw, and what they refuse."""

import numpy as np
import pytest

from dlcourse.hardware.parallel import gpipe_schedule
from dlcourse.hardware.scaling import SEED_TABLE, fit_scaling, speedup_and_efficiency
from dlcourse.lessons.gpus import (
    matmul_throughput_figure,
    parallelism_diagram,
    peaks_figure,
    pipeline_gantt_figure,
    scaling_figure,
)


def test_matmul_figure_skips_unmeasured_dtypes_and_labels_its_axes():
    fig = matmul_throughput_figure([128, 256], {"float32": [1e9, 2e9], "float16": [None, 3e9]}, "CPU: test")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["float32", "float16"]
    assert list(ax.lines[1].get_xdata()) == [256]          # the None was left out
    assert list(ax.lines[0].get_ydata()) == [1.0, 2.0]     # in GFLOP/s
    assert ax.get_xlabel() and ax.get_ylabel() and "CPU: test" in ax.get_title()
    with pytest.raises(ValueError, match="values for 2 sizes"):
        matmul_throughput_figure([128, 256], {"float32": [1e9]}, "CPU: test")


def test_peaks_figure_marks_measured_bars_apart():
    fig = peaks_figure([("cpu (measured)", 1e11, 1e10, True), ("T4 (published)", 8.1e12, 3.2e11, False)])
    flops, bandwidth = fig.axes
    colours = [tuple(np.round(bar.get_facecolor(), 3)) for bar in flops.patches]
    assert len(colours) == 2 and colours[0] != colours[1]
    assert [bar.get_hatch() for bar in flops.patches] == ["//", None]
    assert flops.get_xscale() == bandwidth.get_xscale() == "log"
    assert flops.get_xlim()[0] <= 1e10                      # the smallest bar is visible
    with pytest.raises(ValueError, match="at least one device"):
        peaks_figure([])


def test_parallelism_diagram_draws_one_box_per_device():
    fig = parallelism_diagram(devices=3, micro_batches=2)
    left, right = fig.axes
    assert sum(t.get_text().startswith("GPU") for t in left.texts) == 3
    assert sum(t.get_text().startswith("GPU") for t in right.texts) == 3
    with pytest.raises(ValueError, match="at least 2 devices"):
        parallelism_diagram(devices=1)


def test_gantt_draws_every_event_of_the_schedule():
    events = gpipe_schedule(3, 2)
    fig = pipeline_gantt_figure(events, "title")
    ax = fig.axes[0]
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted(f"{p}{m + 1}" for _, p, m, _, _ in events)
    assert ax.get_xlim() == (0.0, max(e[4] for e in events))
    assert ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="no events"):
        pipeline_gantt_figure([])


def test_scaling_figure_plots_the_seed_table_and_its_fit():
    speedup, efficiency = speedup_and_efficiency(SEED_TABLE)
    fit = fit_scaling(SEED_TABLE)
    fig = scaling_figure(SEED_TABLE.batches, SEED_TABLE.gpus, speedup, efficiency,
                         fitted_speedup=fit.fitted[:, :1] / fit.fitted)
    left, right = fig.axes
    one_gpu = left.lines[0]                  # 1 GPU, measured: the baseline
    assert list(one_gpu.get_ydata()) == [1.0] * 5
    assert np.allclose(right.lines[2].get_ydata(), efficiency[:, 2])
    assert "fitted" in left.get_title()
    with pytest.raises(ValueError, match="5 batches x 3 GPU counts"):
        scaling_figure(SEED_TABLE.batches, SEED_TABLE.gpus, speedup[:2], efficiency)
