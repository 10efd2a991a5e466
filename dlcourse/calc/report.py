"""Rows, totals and their rendering: the result type shared by ``Network`` and ``summarize``.

Facts (``Row``), totals (``Summary``) and formatting (``format_table``,
``format_html``, ``Summary.to_dict``) are kept apart, as in torchinfo.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlcourse.validation import checked_int

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Row:
    """One layer (or one module call) of a summary.

    ``macs`` is ``None`` where the MACs are not known; ``activations`` is the
    number of values this row stores (0 for a view such as Flatten, or for an
    in-place operation).
    """

    name: str
    output_shape: Shape
    params: int
    macs: int | None
    activations: int
    note: str = ""
    path: str = ""   # the module's name in its model ("features.0"); "" for a Network layer
    kind: str = ""   # the module's or layer's class ("Conv2d")

    @property
    def flops(self) -> int | None:
        """FLOPs = 2 x MACs (one multiply and one add per MAC)."""
        return None if self.macs is None else 2 * self.macs


class Summary:
    """Rows plus totals for one input.

    ``params`` defaults to the sum of the rows' parameters; ``summarize`` passes
    the number of distinct parameters instead, so shared weights count once.
    """

    def __init__(
        self,
        input_shape: Shape,
        rows: Sequence[Row],
        params: int | None = None,
        notes: Sequence[str] = (),
        output_shape: Any = None,
    ) -> None:
        self.input_shape: Shape = tuple(input_shape)
        self.rows: list[Row] = list(rows)
        self._params = params
        self._output_shape = output_shape
        self.notes: list[str] = list(notes)
        # values in the input(s); ``summarize`` sets it when a module takes several inputs
        self.input_values: int = math.prod(self.input_shape)
        # module path -> (class name, output shape) of every module ``summarize`` saw run
        self.modules: dict[str, tuple[str, Any]] = {}

    @property
    def output_shape(self) -> Any:
        """The shape of what the model returns: a tuple; a tuple or dict of them for several outputs.

        For a ``Network``, the shape after the last row (the input shape if there are no rows).
        """
        if self._output_shape is not None:
            return self._output_shape
        return self.rows[-1].output_shape if self.rows else self.input_shape

    @property
    def params(self) -> int:
        """Number of learned parameters."""
        if self._params is not None:
            return self._params
        return sum(row.params for row in self.rows)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of all rows whose MACs are known."""
        return sum(row.macs for row in self.rows if row.macs is not None)

    @property
    def flops(self) -> int:
        """FLOPs = 2 x MACs."""
        return 2 * self.macs

    @property
    def unknown_rows(self) -> list[Row]:
        """Rows whose MACs are not known (left out of ``macs``)."""
        return [row for row in self.rows if row.macs is None]

    def activation_count(self, include_input: bool = True) -> int:
        """Values stored: every row's output, plus the input if asked."""
        stored = sum(row.activations for row in self.rows)
        return stored + (self.input_values if include_input else 0)

    def memory_bytes(
        self, bytes_per_value: int = 4, include_params: bool = True, include_input: bool = True
    ) -> int:
        """Bytes for the stored values (and parameters, and input), ``bytes_per_value`` each."""
        checked_int("bytes_per_value", bytes_per_value)
        values = self.activation_count(include_input) + (self.params if include_params else 0)
        return values * bytes_per_value

    def to_dict(self, bytes_per_value: int = 4) -> dict[str, object]:
        """Plain data for JSON output."""
        return {
            "input_shape": list(self.input_shape),
            "output_shape": _plain_shape(self.output_shape),
            "rows": [
                {
                    "name": row.name,
                    "path": row.path,
                    "kind": row.kind,
                    "output_shape": list(row.output_shape),
                    "params": row.params,
                    "macs": row.macs,
                    "flops": row.flops,
                    "activations": row.activations,
                    "note": row.note,
                }
                for row in self.rows
            ],
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
            "macs_unknown_rows": [row.name for row in self.unknown_rows],
            "activation_count": self.activation_count(),
            "bytes_per_value": bytes_per_value,
            "memory_bytes": self.memory_bytes(bytes_per_value),
            "memory_bytes_activations_only": self.memory_bytes(bytes_per_value, include_params=False),
            "notes": self.notes,
        }

    def __str__(self) -> str:
        return format_table(self)

    def _repr_html_(self) -> str:
        return format_html(self)


def _plain_shape(shape: Any) -> Any:
    """A shape, or a tuple or dict of shapes, as JSON-friendly lists and dicts."""
    if isinstance(shape, dict):
        return {str(key): _plain_shape(value) for key, value in shape.items()}
    if isinstance(shape, tuple) and shape and all(isinstance(item, (tuple, dict)) for item in shape):
        return [_plain_shape(item) for item in shape]
    return list(shape) if isinstance(shape, tuple) else shape


_HEADERS = ("#", "layer", "output shape", "params", "MACs")


def _shape_text(shape: Shape) -> str:
    return str(tuple(shape))


def _cells(summary: Summary) -> list[tuple[str, ...]]:
    cells: list[tuple[str, ...]] = [("0", "input", _shape_text(summary.input_shape), "", "")]
    for index, row in enumerate(summary.rows, start=1):
        macs = "?" if row.macs is None else f"{row.macs:,}"
        name = row.name + (f"  [{row.note}]" if row.note else "")
        cells.append((str(index), name, _shape_text(row.output_shape), f"{row.params:,}", macs))
    return cells


def _total_lines(summary: Summary, bytes_per_value: int = 4, batch_size: int = 1) -> list[str]:
    unit = f"{bytes_per_value} B per value"
    lines = [
        f"params: {summary.params:,}",
        f"MACs: {summary.macs:,}    FLOPs (= 2 x MACs): {summary.flops:,}",
        f"stored values (input + outputs): {summary.activation_count():,}",
        f"memory ({unit}): input + activations "
        f"{summary.memory_bytes(bytes_per_value, include_params=False):,} B; "
        f"with parameters {summary.memory_bytes(bytes_per_value):,} B",
    ]
    if batch_size > 1:
        totals = batch_totals(summary, batch_size, bytes_per_value)
        lines.append(
            f"batch of {batch_size}: MACs {totals['macs']:,}; FLOPs {totals['flops']:,}; "
            f"input + activations {totals['memory_bytes_activations_only']:,} B; "
            f"with parameters (stored once) {totals['memory_bytes']:,} B"
        )
    if summary.unknown_rows:
        names = ", ".join(row.name for row in summary.unknown_rows)
        lines.append(f"MACs unknown (shown as ?; not in the total) for: {names}")
    lines.extend(summary.notes)
    return lines


def batch_totals(summary: Summary, batch_size: int, bytes_per_value: int = 4) -> dict[str, int]:
    """Totals for ``batch_size`` samples of a per-sample summary; parameters are stored once.

    >>> from dlcourse.calc import Network, Linear
    >>> batch_totals(Network((10,), [Linear(5)]), 64)["macs"]
    3200
    """
    checked_int("batch_size", batch_size)
    activations = summary.memory_bytes(bytes_per_value, include_params=False) * batch_size
    return {
        "batch_size": batch_size,
        "macs": summary.macs * batch_size,
        "flops": summary.flops * batch_size,
        "memory_bytes_activations_only": activations,
        "memory_bytes": activations + summary.params * bytes_per_value,
    }


def format_table(summary: Summary, bytes_per_value: int = 4, batch_size: int = 1) -> str:
    """An aligned text table with totals underneath (and batch totals if ``batch_size`` > 1)."""
    cells = _cells(summary)
    widths = [max(len(row[col]) for row in cells + [_HEADERS]) for col in range(len(_HEADERS))]
    align_right = (True, False, False, True, True)

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, align_right)
        ]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(["x" * w for w in widths]))
    totals = _total_lines(summary, bytes_per_value, batch_size)
    out = [line(_HEADERS), rule] + [line(row) for row in cells] + [rule] + totals
    return "\n".join(out)


def format_html(summary: Summary) -> str:
    """The same table as HTML, for notebooks and the book (numbers right-aligned)."""
    cell = "padding:2px 12px;border-bottom:1px solid #ddd;"
    align = ("right", "left", "left", "right", "right")
    head = "".join(f'<th style="{cell}text-align:{a}">{html.escape(h)}</th>' for h, a in zip(_HEADERS, align))
    def shown(value: str, column: int, row: int) -> str:
        # a layer's name is its module path or its description in code: shown as code
        return f"<code>{html.escape(value)}</code>" if column == 1 and row > 0 else html.escape(value)

    body = "".join(
        "<tr>" + "".join(f'<td style="{cell}text-align:{a}">{shown(value, column, number)}</td>'
                         for column, (value, a) in enumerate(zip(row, align))) + "</tr>"
        for number, row in enumerate(_cells(summary))
    )
    totals = "<br>".join(html.escape(text) for text in _total_lines(summary))
    return (
        '<table class="dlcourse-calc" style="border-collapse:collapse"><thead><tr>' + head + "</tr></thead><tbody>"
        + body + "</tbody></table><p>" + totals + "</p>"
    )
