"""The Vietnamese edition's words and numbers where code writes them (dlcourse.vietnamese.writing),
its figures (dlcourse.display.plots), its catalogues' numbers (dlcourse.book.translations) and its
glossary order (book/_ext/vietnamese_edition.py)."""

import base64
import re

import pytest
from matplotlib.figure import Figure

from dlcourse.book.translations import number_problem, vietnamese_message
from dlcourse.display import inline_figures, plots
from dlcourse.vietnamese.writing import vietnamese, vietnamese_html, vietnamese_math, vietnamese_numbers
from tests.test_book_sources import load_extension


@pytest.mark.parametrize("english, expected", [
    ("5,000 steps", "5.000 steps"),                  # grouped thousands
    ("0.9", "0,9"),                                  # a decimal point
    ("1,234.5", "1.234,5"),                          # both
    ("165,191,680", "165.191.680"),
    ("1.2e-05", "1,2e-05"),
    ("(3, 224, 224)", "(3, 224, 224)"),              # a shape: a comma and a space separate
    ("224", "224"),                                  # no separator: the same in both
    ("torch 2.13.0", "torch 2.13.0"),                # a version
    ("Python 3.11", "Python 3.11"),
    ("fp16 and 1.5x", "fp16 and 1.5x"),              # inside words
    ("-0.25 and −0.8699", "-0,25 and −0,8699"),
])
def test_numbers_are_written_the_vietnamese_way(english, expected):
    assert vietnamese_numbers(english) == expected


def test_formulas_get_a_decimal_comma_in_braces():
    assert vietnamese_math("$0.9^{50}$") == "$0{,}9^{50}$"
    assert vietnamese_math("$5{,}000 + 1.25$") == "$5.000 + 1{,}25$"
    assert vietnamese_math("$x_1 + 2 \\cdot 3$") == "$x_1 + 2 \\cdot 3$"


def test_labels_are_translated_with_their_numbers():
    assert vietnamese("learning rate") == "tốc độ học"
    assert vietnamese("input 7 x 7, padding 1") == "đầu vào 7 × 7, đệm 1"
    assert vietnamese("degree 9: train 0.006, test 1.37") == "bậc 9: huấn luyện 0,006, kiểm tra 1,37"
    assert vietnamese("Adam") == "Adam"                       # a name stays
    assert vietnamese("step\nloss") == "bước\nmất mát"        # line by line
    # a device's model is a name: kept, whatever words it has; the rest is translated
    label = "CPU: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz (8 cores, 16 threads; torch uses 8)"
    assert vietnamese(label) == ("CPU: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz "
                                 "(8 lõi, 16 luồng; torch dùng 8)")
    assert vietnamese(f"Matrix multiply, measured on {label}").startswith("Nhân ma trận, đo trên CPU: Intel(R)")


def test_a_label_without_vietnamese_is_an_error_that_names_it():
    with pytest.raises(ValueError, match="'validation loss'.*dlcourse/vietnamese/writing.py"):
        vietnamese("validation loss")
    for text in ("○ begin", "η = 0.1, tuned"):               # symbols and Greek are not Vietnamese letters
        with pytest.raises(ValueError, match=re.escape(text)):
            vietnamese(text)
    with pytest.raises(ValueError, match="needs a str"):
        vietnamese(3)


def test_the_layer_table_of_calc_in_vietnamese():
    from dlcourse import calc

    net = calc.Network((1, 32, 32), [calc.Conv2d(6, 5), calc.MaxPool2d(2), calc.Flatten(), calc.Linear(10)])
    english = net._repr_html_()
    markup = vietnamese_html(english)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", markup)
    assert headers == ["#", "tầng", "kích thước đầu ra", "tham số", "MACs"]
    # by hand: the convolution has 6 * (5 * 5 + 1) = 156 parameters, the linear layer
    # 10 * (6 * 14 * 14 + 1) = 11,770; 11,926 in all
    assert ">11.770<" in markup and "tham số: 11.926" in markup
    assert "params" not in markup and "with parameters" not in markup
    assert markup.count("<td") == english.count("<td")      # the markup itself is untouched
    # a layer's name is code: shown as code and left in Python's notation
    assert re.findall(r"<code>[^<]*</code>", markup) == re.findall(r"<code>[^<]*</code>", english) != []
    assert vietnamese_html("<td><code>Dropout(0.5)</code> 0.5</td>") == "<td><code>Dropout(0.5)</code> 0,5</td>"


def _texts_drawn(monkeypatch, fig):
    """Every text of the figure as the Vietnamese PNG is drawn, tick labels included."""
    seen = []

    def draw(figure):
        figure.canvas.draw()
        for ax in figure.axes:
            texts = ax.get_xticklabels() + ax.get_yticklabels() + [ax.xaxis.label, ax.yaxis.label, ax.title]
            texts += ax.get_legend().get_texts() if ax.get_legend() else []
            seen.extend(t.get_text() for t in texts if t.get_text())
        return b"\x89PNG"

    monkeypatch.setattr(inline_figures, "png_bytes", draw)
    inline_figures.vietnamese_figure_png(fig)
    return seen


def test_a_figure_is_drawn_in_vietnamese_and_left_as_it_was(monkeypatch):
    fig = plots.curves_figure([0, 1, 2], {"SGD": [0.0, 0.25, 1.5]}, xlabel="step", ylabel="learning rate")
    ax = fig.axes[0]
    drawn = _texts_drawn(monkeypatch, fig)
    assert "bước" in drawn and "tốc độ học" in drawn and "SGD" in drawn
    assert "0,25" in drawn or "0,5" in drawn                   # the y ticks, Vietnamese
    assert not any(re.fullmatch(r"\d+\.\d+", text) for text in drawn)
    # the figure itself is unchanged: the English edition shows it
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("step", "learning rate")
    fig.canvas.draw()
    assert any(re.fullmatch(r"0\.\d+", t.get_text()) for t in ax.get_yticklabels())


def test_a_figure_with_an_untranslated_label_stops_the_build():
    fig = Figure()
    fig.subplots().set_xlabel("validation loss")
    with pytest.raises(ValueError, match="validation loss"):
        inline_figures.vietnamese_figure_png(fig)
    assert fig.axes[0].get_xlabel() == "validation loss"


def test_while_the_book_is_built_a_figure_carries_both_editions():
    fig = plots.curves_figure([0, 1], {"SGD": [1.0, 0.5]}, xlabel="step", ylabel="loss")
    bundle = inline_figures.both_editions_bundle(fig)
    english = base64.b64decode(bundle["image/png"])
    vietnamese_png = base64.b64decode(re.search(r'base64,([^"]+)"', bundle["text/html"]).group(1))
    assert english[:4] == vietnamese_png[:4] == b"\x89PNG"
    assert english != vietnamese_png


def test_the_catalogues_numbers_must_be_the_originals_written_the_vietnamese_way():
    english = "After 5,000 steps at $\\eta = 0.01$ the loss is 0.25 (`lr=0.01`)."
    assert number_problem(english, "Sau 5.000 bước với $\\eta = 0{,}01$ mất mát là 0,25 (`lr=0.01`).") is None
    assert "5,000" in number_problem(english, "Sau 5,000 bước với $\\eta = 0{,}01$ mất mát là 0,25.")
    assert "0.01" in number_problem(english, "Sau 5.000 bước với $\\eta = 0.01$ mất mát là 0,25.")
    assert vietnamese_message("Sau 5,000 bước, $\\beta = 0.9$.") == "Sau 5.000 bước, $\\beta = 0{,}9$."


def test_the_vietnamese_glossary_is_in_vietnamese_alphabetical_order():
    order = load_extension("vietnamese_edition")._vietnamese_order
    words = ["đệm", "dừng sớm", "ẩn", "bước nhảy", "an", "ăn", "bà", "ba", "bá", "ạ", "ứng", "uống",
             "chuẩn hoá", "chú ý"]
    assert sorted(words, key=order) == ["ạ", "an", "ăn", "ẩn", "ba", "bà", "bá", "bước nhảy", "chú ý",
                                        "chuẩn hoá", "dừng sớm", "đệm", "uống", "ứng"]


def test_the_built_vietnamese_glossary_is_in_vietnamese_order():
    from bs4 import BeautifulSoup

    from tests.test_book_browser import HTML

    page = HTML / "vi" / "book" / "glossary.html"
    if not page.exists():
        pytest.fail(f"{page} is missing: run `make book`, which builds both editions")
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    names = [dt.get_text(" ", strip=True).removesuffix("#").strip().split(" (")[0]
             for dt in soup.select("dl.glossary dt")]
    order = load_extension("vietnamese_edition")._vietnamese_order
    assert len(names) >= 90 and names == sorted(names, key=order)
    assert names.index("tầng") < names.index("tầng kết nối đầy đủ")
