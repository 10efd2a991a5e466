"""The GPU chapter's figures: matrix-multiply throughput, peaks, the roofline, parallelism
diagrams, a pipeline's schedule and the scaling case study.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from dlcourse.display.inline_figures import inline_figure
from dlcourse.display.plots import two_panel_figure
from dlcourse.hardware.gpu import RooflinePoint, attainable


@inline_figure
def roofline_figure(
    peak_flops: float,
    peak_bandwidth: float,
    points_by_model: Mapping[str, Sequence[RooflinePoint]],
    device_label: str,
) -> Figure:
    """The roofline of a device (log-log) with each model's layers placed on it at their bound.

    ``peak_flops`` in FLOP/s and ``peak_bandwidth`` in bytes/s; ``device_label`` says which
    device and whether its peaks are published or measured.  Layers left of the ridge point
    are memory-bound; depthwise convolutions are drawn with their own marker.

    >>> from torch import nn
    >>> from dlcourse.hardware.gpu import roofline_points
    >>> pts = {"a linear layer": roofline_points(nn.Linear(64, 64), (8, 64))}
    >>> fig = roofline_figure(19.5e12, 2039e9, pts, "A100 SXM 80 GB (published peaks)")
    >>> fig.axes[0].get_xscale(), fig.axes[0].get_yscale()
    ('log', 'log')
    """
    if not peak_flops > 0 or not peak_bandwidth > 0:
        raise ValueError(f"peak_flops and peak_bandwidth must be positive (FLOP/s and bytes/s), "
                         f"got {peak_flops!r} and {peak_bandwidth!r}")
    ridge = peak_flops / peak_bandwidth
    intensities = [p.intensity for points in points_by_model.values() for p in points]
    low = min([ridge / 10, *intensities]) / 2
    high = max([ridge * 10, *intensities]) * 2
    unit, scale = ("TFLOP/s", 1e12) if peak_flops >= 1e12 else ("GFLOP/s", 1e9)
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    xs = [low * (high / low) ** (i / 200) for i in range(201)]
    ax.plot(xs, [attainable(x, peak_flops, peak_bandwidth) / scale for x in xs], color="black", lw=2,
            label="roofline: min(peak, intensity x bandwidth)")
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    ax.annotate(f"ridge point\n{ridge:.1f} FLOP/B", (ridge, peak_flops / scale), textcoords="offset points",
                xytext=(6, -28), fontsize=8, color="grey")
    markers = ["o", "s", "^", "D", "v"]
    for index, (model, points) in enumerate(points_by_model.items()):
        for depthwise in (False, True):
            chosen = [p for p in points if p.kind.startswith("depthwise") == depthwise]
            if not chosen:
                continue
            ax.scatter([p.intensity for p in chosen],
                       [attainable(p.intensity, peak_flops, peak_bandwidth) / scale for p in chosen],
                       marker="x" if depthwise else markers[index % len(markers)], s=28, alpha=0.7,
                       color=f"C{index}", label=f"{model}: {'depthwise convs' if depthwise else 'layers'}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP per byte moved)")
    ax.set_ylabel(f"attainable performance ({unit})")
    ax.set_title(f"Roofline of {device_label}", fontsize=10, wrap=True)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


@inline_figure
def matmul_throughput_figure(sizes: Sequence[int], series: Mapping[str, Sequence[float | None]],
                             device_label: str) -> Figure:
    """Achieved GFLOP/s of n x n matrix products against n, one line per dtype (None: not measured).

    >>> fig = matmul_throughput_figure([256, 512], {"float32": [1e10, 2e10], "float16": [None, None]}, "CPU: x")
    >>> [line.get_label() for line in fig.axes[0].lines], fig.axes[0].get_ylabel()
    (['float32'], 'achieved GFLOP/s (median of repeats)')
    """
    fig = Figure(figsize=(7, 3.8))
    ax = fig.subplots()
    for index, (name, values) in enumerate(series.items()):
        if len(values) != len(sizes):
            raise ValueError(f"{name}: {len(values)} values for {len(sizes)} sizes")
        points = [(n, v / 1e9) for n, v in zip(sizes, values) if v is not None]
        if points:
            ax.plot(*zip(*points), marker="os^D"[index % 4], linewidth=2, label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sizes), [str(n) for n in sizes])
    ax.set_xlabel("matrix size n (n x n times n x n)")
    ax.set_ylabel("achieved GFLOP/s (median of repeats)")
    ax.set_title(f"Matrix multiply, measured on {device_label}", fontsize=9, wrap=True)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


@inline_figure
def peaks_figure(rows: Sequence[tuple[str, float, float, bool]]) -> Figure:
    """Horizontal bars on log axes: FLOP/s (left) and memory bandwidth (right) of each device.

    ``rows`` are (label, FLOP/s, bytes/s, measured); measured bars are orange and hatched,
    published ones blue, so a measured figure is never read as a vendor's.

    >>> fig = peaks_figure([("CPU (measured)", 1e11, 1e10, True), ("T4 (published)", 8.1e12, 3.2e11, False)])
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['FLOP/s (log scale)', 'memory bandwidth, bytes/s (log scale)']
    """
    if not rows:
        raise ValueError("peaks_figure needs at least one device")
    fig = Figure(figsize=(9, 0.45 * len(rows) + 1.4))
    axes = fig.subplots(1, 2, sharey=True)
    labels = [row[0] for row in rows]
    positions = np.arange(len(rows))[::-1]
    for ax, column, xlabel in ((axes[0], 1, "FLOP/s (log scale)"),
                               (axes[1], 2, "memory bandwidth, bytes/s (log scale)")):
        for y, row in zip(positions, rows):
            ax.barh(y, row[column], color="#ff7f0e" if row[3] else "#1f77b4", hatch="//" if row[3] else None,
                    edgecolor="black", linewidth=0.5)
            ax.text(row[column], y, f" {row[column]:.2g}", va="center", fontsize=7)
        ax.set_xscale("log")
        values = [row[column] for row in rows]
        ax.set_xlim(min(values) / 10, max(values) * 10)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(positions, labels)
    fig.tight_layout()
    return fig


@inline_figure
def parallelism_diagram(devices: int = 4, micro_batches: int = 4) -> Figure:
    """Data parallelism (left: a replica per device, a slice of the batch each, gradients
    all-reduced) and model parallelism (right: a stage of layers per device, micro-batches
    flowing through).

    >>> fig = parallelism_diagram(4, 4)
    >>> [ax.get_title() for ax in fig.axes]
    ['data parallelism: replicas + all-reduce', 'model parallelism: stages + micro-batches']
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    if devices < 2 or micro_batches < 1:
        raise ValueError(f"need at least 2 devices and 1 micro-batch, got {devices} and {micro_batches}")
    fig = Figure(figsize=(10, 4.2))
    left, right = fig.subplots(1, 2)
    width = 1.6
    # data parallelism
    for d in range(devices):
        x = d * 2.0
        left.add_patch(Rectangle((x, 1.0), width, 2.0, facecolor="#dbe9f6", edgecolor="#08306b"))
        left.text(x + width / 2, 2.55, f"GPU {d}", ha="center", fontsize=9, weight="bold")
        left.text(x + width / 2, 1.85, "whole model\n(a replica)", ha="center", va="center", fontsize=8)
        left.add_patch(Rectangle((x + 0.2, 3.5), width - 0.4, 0.5, facecolor="#fdd0a2", edgecolor="#a63603"))
        left.text(x + width / 2, 3.75, f"batch/{devices}", ha="center", va="center", fontsize=8)
        left.add_patch(FancyArrowPatch((x + width / 2, 3.5), (x + width / 2, 3.0), arrowstyle="->",
                                       mutation_scale=10))
        left.add_patch(FancyArrowPatch((x + width / 2, 1.0), (x + width / 2, 0.45), arrowstyle="<->",
                                       mutation_scale=10, color="#a50f15"))
    span = 2.0 * (devices - 1) + width
    left.add_patch(Rectangle((0, 0.0), span, 0.45, facecolor="#fcbba1", edgecolor="#a50f15"))
    left.text(span / 2, 0.22, "all-reduce: every replica gets the mean gradient", ha="center", va="center",
              fontsize=8)
    left.set_xlim(-0.2, span + 0.2)
    left.set_ylim(-0.2, 4.3)
    # model parallelism
    for d in range(devices):
        x = d * 2.0
        right.add_patch(Rectangle((x, 1.0), width, 2.0, facecolor="#e5f5e0", edgecolor="#00441b"))
        right.text(x + width / 2, 2.55, f"GPU {d}", ha="center", fontsize=9, weight="bold")
        right.text(x + width / 2, 1.85, f"stage {d + 1}:\nlayers of\npart {d + 1}", ha="center", va="center",
                   fontsize=8)
        if d < devices - 1:
            right.add_patch(FancyArrowPatch((x + width, 1.6), (x + 2.0, 1.6), arrowstyle="->", mutation_scale=10))
            right.add_patch(FancyArrowPatch((x + 2.0, 2.3), (x + width, 2.3), arrowstyle="->", mutation_scale=10,
                                            color="#a50f15"))
    chunk = width / micro_batches
    for m in range(micro_batches):
        right.add_patch(Rectangle((m * chunk, 3.5), chunk * 0.9, 0.5, facecolor="#fdd0a2", edgecolor="#a63603"))
        right.text(m * chunk + chunk * 0.45, 3.75, str(m + 1), ha="center", va="center", fontsize=8)
    right.text(width + 0.2, 3.75, "micro-batches enter stage 1 one after another", va="center", fontsize=8)
    right.text(span / 2, 0.35, "black: activations forward; red: their gradients backward", ha="center",
               fontsize=8)
    right.set_xlim(-0.2, span + 0.2)
    right.set_ylim(-0.2, 4.3)
    for ax, title in ((left, "data parallelism: replicas + all-reduce"),
                      (right, "model parallelism: stages + micro-batches")):
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    return fig


@inline_figure
def pipeline_gantt_figure(events: Sequence[tuple[int, str, int, float, float]], title: str = "") -> Figure:
    """A timetable of pipeline events (stage, "F" or "B", micro-batch, start, end): one row per
    stage, forwards blue and backwards orange, labelled with their micro-batch; idle time grey.

    >>> fig = pipeline_gantt_figure([(0, "F", 0, 0.0, 1.0), (1, "F", 0, 1.0, 2.0)])
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('time (forward of one micro-batch = 1)', 'stage (device)')
    """
    if not events:
        raise ValueError("no events to draw")
    stages = max(e[0] for e in events) + 1
    start, end = min(e[3] for e in events), max(e[4] for e in events)
    fig = Figure(figsize=(9, 0.6 * stages + 1.6))
    ax = fig.subplots()
    for s in range(stages):
        ax.broken_barh([(start, end - start)], (s - 0.4, 0.8), facecolors="#eeeeee", hatch="xx",
                       edgecolor="#bbbbbb", linewidth=0)
    for stage, phase, m, begin, finish in events:
        colour = "#6baed6" if phase == "F" else "#fd8d3c"
        ax.broken_barh([(begin, finish - begin)], (stage - 0.4, 0.8), facecolors=colour, edgecolor="black",
                       linewidth=0.6)
        ax.text((begin + finish) / 2, stage, f"{phase}{m + 1}", ha="center", va="center", fontsize=8)
    ax.set_yticks(range(stages), [str(s + 1) for s in range(stages)])
    ax.invert_yaxis()
    ax.set_xlim(start, end)
    ax.set_xlabel("time (forward of one micro-batch = 1)")
    ax.set_ylabel("stage (device)")
    from matplotlib.patches import Patch
    fig.legend(handles=[Patch(facecolor="#6baed6", edgecolor="black", label="forward"),
                        Patch(facecolor="#fd8d3c", edgecolor="black", label="backward"),
                        Patch(facecolor="#eeeeee", hatch="xx", edgecolor="#bbbbbb", label="idle (bubble)")],
               loc="lower center", ncol=3, fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, 1))
    return fig


@inline_figure
def scaling_figure(batches: Sequence[int], gpus: Sequence[int], speedup: np.ndarray, efficiency: np.ndarray,
                   fitted_speedup: np.ndarray | None = None) -> Figure:
    """Speed-up (left, with the ideal speed-up n dotted) and efficiency (right) against the
    batch size, one line per GPU count; ``fitted_speedup`` adds a model's curves dashed.

    >>> s = np.array([[1.0, 1.5], [1.0, 1.8]])
    >>> fig = scaling_figure([32, 64], [1, 2], s, s / [1, 2])
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['speed-up t(1) / t(n)', 'efficiency = speed-up / n']
    """
    speedup, efficiency = np.asarray(speedup, float), np.asarray(efficiency, float)
    if speedup.shape != (len(batches), len(gpus)) or efficiency.shape != speedup.shape:
        raise ValueError(f"speedup and efficiency must be {len(batches)} batches x {len(gpus)} GPU counts")
    fig, left, right = two_panel_figure("batch size", ("speed-up t(1) / t(n)", "efficiency = speed-up / n"),
                                        figsize=(9, 3.6))
    for j, n in enumerate(gpus):
        colour = f"C{j}"
        left.plot(batches, speedup[:, j], marker="o", color=colour, linewidth=2)
        left.axhline(n, color=colour, linestyle=":", linewidth=1)
        if fitted_speedup is not None:
            left.plot(batches, np.asarray(fitted_speedup)[:, j], linestyle="--", color=colour, linewidth=1)
        right.plot(batches, efficiency[:, j], marker="o", color=colour, linewidth=2, label=f"{n} GPU(s)")
    left.set_ylim(0, max(gpus) + 0.5)
    right.set_ylim(0, 1.1)
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(batches), [str(b) for b in batches])
    right.legend(fontsize=8, loc="lower right", title="colours, both panels", title_fontsize=8)
    left.set_title("solid: measured; dotted: ideal speed-up n" + ("; dashed: fitted" if fitted_speedup is not None
                                                                  else ""), fontsize=9)
    fig.tight_layout()
    return fig
