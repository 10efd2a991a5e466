"""dlcourse.display.tables: the chapters' small table, against hand-written output."""

import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter

from dlcourse.display.tables import Table, table
from dlcourse.vietnamese.writing import vietnamese_html

FORMATS = [("float32", 32, 2.0 ** -23, 3.4028234663852886e38),
           ("bfloat16", 16, 2.0 ** -7, None)]
HEADERS = ["format", "bits", "eps", "max"]
SPECS = [None, "d", ".1e", ".2e"]


def test_plain_text_is_aligned_numbers_right_text_left():
    assert str(table(FORMATS, HEADERS, SPECS)) == (
        "format    bits      eps       max\n"
        "--------  ----  -------  --------\n"
        "float32     32  1.2e-07  3.40e+38\n"
        "bfloat16    16  7.8e-03         -"
    )


def test_repr_is_the_plain_text():
    shown = table([("SGD", 0.1)], ["optimiser", "lr"])
    assert repr(shown) == str(shown) == "optimiser   lr\n---------  ---\nSGD        0.1"


def test_numbers_keep_their_format_specification():
    rows = [("GTX 1060 6 GB", 4.375, 192.0, 0.5), ("H100 SXM 80 GB", 66.9, 3352.0, 0.0415)]
    shown = table(rows, ["GPU", "FP32 (TFLOP/s)", "bandwidth (GB/s)", "spread"],
                  formats=[None, ".1f", ",.0f", ".0%"])
    assert shown.cells == (("GTX 1060 6 GB", "4.4", "192", "50%"), ("H100 SXM 80 GB", "66.9", "3,352", "4%"))
    assert shown.align == "lrrr"


def test_numpy_numbers_are_numbers_and_text_is_left_as_it_is():
    shown = table([(np.int64(512), np.float64(0.25), "1.5", True)], ["n", "x", "text", "flag"],
                  formats=["d", ".2f", ".3f", None])
    assert shown.cells == (("512", "0.25", "1.5", "True"),)
    assert shown.align == "rrll"   # a column of texts (or of booleans) is not a column of numbers


def test_a_column_of_numbers_and_words_is_aligned_left_unless_told():
    rows = [("a", "crops", 51200), ("b", "layer 1", "126 × 126 × 16")]
    assert table(rows, ["question", "quantity", "answer"]).align == "lll"
    shown = table(rows, ["question", "quantity", "answer"], formats=[None, None, ","], align="llr")
    assert str(shown) == (
        "question  quantity          answer\n"
        "--------  --------  --------------\n"
        "a         crops             51,200\n"
        "b         layer 1   126 × 126 × 16"
    )


def test_centred_column():
    assert str(table([("1b", "✓"), ("2a", "✗")], ["q", "mark"], align="lc")) == (
        "q   mark\n"
        "--  ----\n"
        "1b   ✓\n"
        "2a   ✗"
    )


def test_html_is_a_real_table_with_escaped_text():
    shown = table([("a<b", 1234.5)], ["name & kind", "value"], formats=[None, ",.1f"])
    cell = "padding:2px 12px;border-bottom:1px solid #ddd;"
    assert shown._repr_html_() == (
        '<table class="dlcourse-table" style="border-collapse:collapse"><thead><tr>'
        f'<th style="{cell}text-align:left">name &amp; kind</th>'
        f'<th style="{cell}text-align:right">value</th></tr></thead><tbody><tr>'
        f'<td style="{cell}text-align:left">a&lt;b</td>'
        f'<td style="{cell}text-align:right">1,234.5</td></tr></tbody></table>'
    )
    assert shown._repr_markdown_() is None


def test_markdown_table():
    rows = [("1b", 256000, "51,200 × 5", 256000, "✓"), ("3e", 5.0013, "a | b", 5.0913, "✗")]
    shown = table(rows, ["question", "key prints", "computation", "gives", ""],
                  formats=[None, ",", None, ",", None], align="lrlrc", markdown=True)
    assert shown._repr_markdown_() == (
        "| question | key prints | computation | gives | |\n"
        "|---|---:|---|---:|:-:|\n"
        "| 1b | 256,000 | 51,200 × 5 | 256,000 | ✓ |\n"
        "| 3e | 5.0013 | a \\| b | 5.0913 | ✗ |"
    )
    assert shown._repr_html_() is None


def test_jupyter_shows_one_rich_representation():
    html, _ = DisplayFormatter().format(table([(1,)], ["n"]))
    markdown, _ = DisplayFormatter().format(table([(1,)], ["n"], markdown=True))
    assert set(html) == {"text/plain", "text/html"}
    assert set(markdown) == {"text/plain", "text/markdown"}
    assert html["text/plain"] == "n\n-\n1"


def test_rows_may_be_any_iterable_and_the_table_is_immutable():
    shown = table(((i, i * i) for i in range(3)), ["i", "i²"])
    assert isinstance(shown, Table) and shown.cells == (("0", "0"), ("1", "1"), ("2", "4"))
    with pytest.raises(AttributeError):
        shown.align = "ll"


def test_a_table_without_rows_has_its_headers():
    assert str(table([], ["model", "batch"])) == "model  batch\n-----  -----"


@pytest.mark.parametrize("rows, message", [
    ([(1, 2), (3,)], "row 2 has 1 cells, but there are 2 headers"),
    ([(1, 2, 3)], "row 1 has 3 cells, but there are 2 headers"),
])
def test_ragged_rows_are_refused(rows, message):
    with pytest.raises(ValueError, match=message):
        table(rows, ["x", "y"])


@pytest.mark.parametrize("options, message", [
    ({"formats": [None]}, "1 formats for 2 columns"),
    ({"align": "l"}, "align needs one of l, r, c"),
    ({"align": "lx"}, "align needs one of l, r, c"),
])
def test_formats_and_alignment_must_fit_the_columns(options, message):
    with pytest.raises(ValueError, match=message):
        table([(1, 2)], ["x", "y"], **options)


@pytest.mark.parametrize("headers", [[], ["x", 2]])
def test_headers_are_texts(headers):
    with pytest.raises(ValueError, match="headers must be one or more texts"):
        table([], headers)


def test_a_wrong_format_specification_is_an_error():
    with pytest.raises(ValueError):
        table([(1.5,)], ["x"], formats=["d"])


def test_the_vietnamese_edition_translates_the_header_row_and_the_numbers():
    """What book/_ext/vietnamese_edition.py does to a cell's HTML output in the Vietnamese edition."""
    shown = table([("resnet50", 25557032, 0.5)], ["model", "params", "loss"], formats=[None, ",", ".1f"])
    vietnamese = vietnamese_html(shown._repr_html_())
    assert ">mô hình</th>" in vietnamese and ">tham số</th>" in vietnamese and ">mất mát</th>" in vietnamese
    assert ">resnet50</td>" in vietnamese and ">25.557.032</td>" in vietnamese and ">0,5</td>" in vietnamese
