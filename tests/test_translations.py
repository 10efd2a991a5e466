"""The Vietnamese edition's catalogues and the check that keeps them in step with the English book.

The checker is tested on small catalogues written here (an edited paragraph must come out
fuzzy, a new one untranslated, a translation that lost a computed number broken); the
repository's own catalogues are read as they are, without a build.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from dlcourse.book import editions, pdf, translations

REPO = Path(__file__).resolve().parents[1]
LOCALES = REPO / "locales" / "vi" / "LC_MESSAGES"
sys.path.insert(0, str(REPO / "book" / "_ext"))
import language_switch  # noqa: E402  (a Sphinx extension of the book, not a package)


def catalogue(messages, locale=None) -> Catalog:
    result = Catalog(locale=locale)
    for message in messages:
        if isinstance(message, tuple):
            english, vietnamese, *flags = message
            result.add(english, vietnamese, flags=flags)
        else:
            result.add(message)
    return result


def write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)


TEMPLATE = ["Backpropagation", "The loss is {glue:text}`loss:.3f` after $t = 3$ steps.",
            "A paragraph the English edition added today."]


def test_an_edited_paragraph_is_fuzzy_a_new_one_untranslated_and_the_rest_translated():
    translated = catalogue([
        ("Backpropagation", "Lan truyền ngược"),
        # translated when the English said "two steps"; the English has changed since
        ("The loss is {glue:text}`loss:.3f` after $t = 2$ steps.",
         "Sau $t = 2$ bước, mất mát là {glue:text}`loss:.3f`."),
    ], locale="vi")
    report = translations.check_page(catalogue(TEMPLATE), translated, "book/backprop")
    assert (report.total, report.translated, len(report.fuzzy), len(report.untranslated)) == (3, 1, 1, 1)
    assert report.fuzzy[0].startswith("The loss is")
    assert report.untranslated == ["A paragraph the English edition added today."]
    assert not report.ok
    assert "33.3 % translated" in report.line() and "33.3 % fuzzy" in report.line()


def test_the_check_leaves_the_catalogue_it_reads_unchanged():
    translated = catalogue([("Backpropagation", "Lan truyền ngược")], locale="vi")
    translations.check_page(catalogue(TEMPLATE), translated, "book/backprop")
    assert [m.id for m in translated if m.id] == ["Backpropagation"]


def test_a_message_a_translator_marked_unsure_is_fuzzy():
    translated = catalogue([(TEMPLATE[0], "Lan truyền ngược", "fuzzy")], locale="vi")
    report = translations.check_page(catalogue(TEMPLATE[:1]), translated, "book/backprop")
    assert report.fuzzy == ["Backpropagation"] and report.translated == 0


def test_a_complete_translation_passes():
    translated = catalogue([
        (TEMPLATE[0], "Lan truyền ngược"),
        (TEMPLATE[1], "Sau $t = 3$ bước, mất mát là {glue:text}`loss:.3f`."),
        (TEMPLATE[2], "Một đoạn văn bản tiếng Anh mới thêm hôm nay."),
    ], locale="vi")
    report = translations.check_page(catalogue(TEMPLATE), translated, "book/backprop")
    assert report.ok and report.translated == 3


@pytest.mark.parametrize("original, translation, problem", [
    ("It is {glue:text}`n:,` steps.", "Có 12 bước.", "missing {glue:text}n:,"),
    ("At $x = 5$ it is 0.", "Tại $x = 6$ nó bằng 0.", "missing $x = 5$; unexpected $x = 6$"),
    ("See {cite}`lecun1998`.", "Xem [LeCun 1998].", "missing {cite}lecun1998"),
    ("Call `summarize(net)`.", "Gọi summarize(net).", "missing `summarize(net)`"),
    ("A {term}`mini-batch` of 64.", "Một {term}`lô nhỏ <batch>` gồm 64.",
     "missing {term}mini-batch; unexpected {term}batch"),
    ("Read [the docs](https://pytorch.org).", "Đọc [tài liệu](https://example.org).",
     "missing link https://pytorch.org; unexpected link https://example.org"),
])
def test_a_translation_that_loses_a_number_formula_citation_code_term_or_link_is_broken(original, translation, problem):
    assert translations.markup_problem(original, translation) == problem


def test_a_computed_sentence_may_be_pasted_in_its_vietnamese_version():
    assert translations.markup_problem("It ran on {glue:text}`where`.", "Chạy trên {glue:text}`where_vi`.") is None
    assert translations.markup_problem("It ran on {glue:text}`where`.", "Chạy trên {glue:text}`where_en`.") == (
        "missing {glue:text}where; unexpected {glue:text}where_en")


def test_a_glossary_link_may_show_vietnamese_words_but_must_keep_its_target():
    assert translations.markup_problem("the {term}`activation function` $f$",
                                       "{term}`hàm kích hoạt <activation function>` $f$") is None
    assert translations.markup_problem("{term}`mini-batches <mini-batch>`", "các {term}`mini-batch`") is None


def test_check_reads_the_templates_and_catalogues_of_every_page(tmp_path, capsys):
    templates, locales = tmp_path / "gettext", tmp_path / "locales"
    write(templates / "book" / "intro.pot", catalogue(TEMPLATE[:1]))
    write(templates / "book" / "backprop.pot", catalogue(TEMPLATE[1:2]))
    write(locales / "vi" / "LC_MESSAGES" / "book" / "intro.po", catalogue([(TEMPLATE[0], "Lan truyền ngược")], "vi"))
    reports = translations.check(templates, locales)
    assert [(r.page, r.ok) for r in reports] == [("book/backprop", False), ("book/intro", True)]
    arguments = ["check", "--templates", str(templates), "--locales", str(locales)]
    assert translations.main(arguments) == 1
    out = capsys.readouterr().out
    assert "book/backprop: untranslated: The loss is" in out and "FAILED: 1 page(s)" in out
    write(locales / "vi" / "LC_MESSAGES" / "book" / "backprop.po",
          catalogue([(TEMPLATE[1], "Sau $t = 3$ bước, mất mát là {glue:text}`loss:.3f`.")], "vi"))
    assert translations.main(arguments) == 0


def test_check_without_templates_says_what_to_run(tmp_path, capsys):
    assert translations.main(["check", "--templates", str(tmp_path / "none")]) == 1      # the check cannot be made
    err = capsys.readouterr().err
    assert err.startswith("dlcourse.book.translations: error: no message templates") and err.count("\n") == 1
    assert "python -m dlcourse.book.editions gettext" in err


def test_an_unreadable_catalogue_is_an_error_that_names_it(tmp_path):
    (tmp_path / "gettext" / "book").mkdir(parents=True)
    (tmp_path / "gettext" / "book" / "intro.pot").write_text('msgid "a"\nmsgstr ""\nmsgid "a\n', encoding="utf-8")
    with pytest.raises(ValueError, match="intro.pot"):
        translations.check(tmp_path / "gettext", tmp_path / "locales")


# The repository's catalogues, read directly (no build needed).

CATALOGUES = sorted(LOCALES.rglob("*.po"))


def test_every_page_of_the_book_has_a_vietnamese_catalogue():
    pages = {p.relative_to(REPO).with_suffix("").as_posix() for p in (REPO / "book").glob("*.md")}
    assert {p.relative_to(LOCALES).with_suffix("").as_posix() for p in CATALOGUES} == pages


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.stem)
def test_each_catalogue_is_complete_and_keeps_the_markup(path):
    with path.open("rb") as handle:
        catalog = read_po(handle)
    messages = [m for m in catalog if m.id]
    assert messages, f"{path.name} is empty"
    assert [m.id for m in messages if m.fuzzy] == [], f"{path.name} has fuzzy messages"
    assert [m.id for m in messages if not m.string] == [], f"{path.name} has untranslated messages"
    broken = {m.id[:60]: translations.markup_problem(m.id, m.string) for m in messages}
    assert {k: v for k, v in broken.items() if v} == {}


def test_the_vietnamese_edition_uses_the_glossarys_vietnamese_names():
    """A sample of terms: the Vietnamese page's text uses the glossary's name, not a rival one."""
    with (LOCALES / "book" / "glossary.po").open("rb") as handle:
        glossary = {m.id: m.string for m in read_po(handle) if m.id}
    assert glossary["activation function"] == "hàm kích hoạt (activation function)"
    assert glossary["backpropagation"] == "lan truyền ngược (backpropagation)"
    assert glossary["output layer"] == "tầng đầu ra (output layer)"
    with (LOCALES / "book" / "backprop.po").open("rb") as handle:
        backprop = " ".join(m.string for m in read_po(handle) if m.id)
    assert "lan truyền ngược" in backprop.lower()


# The editions' layout and the language switch.

def test_the_two_editions_share_one_site():
    root = Path("/course")
    assert editions.site_dir("en", root) == root / "_build" / "html"
    assert editions.site_dir("vi", root) == root / "_build" / "html" / "vi"
    assert editions.output_dir("gettext", "en", root) == root / "_build" / "gettext"
    with pytest.raises(ValueError, match="unknown edition 'fr'"):
        editions.output_dir("html", "fr", root)


@pytest.mark.parametrize("page", ["book/intro", "book/gpus", "search", "genindex"])
def test_the_switch_leads_to_the_same_page_and_back(tmp_path, page):
    """Follow the link from English to Vietnamese and back on a real folder layout."""
    english = tmp_path / "html" / f"{page}.html"
    vietnamese = tmp_path / "html" / "vi" / f"{page}.html"
    there = (english.parent / language_switch.other_edition_url(page, "en")).resolve()
    back = (vietnamese.parent / language_switch.other_edition_url(page, "vi")).resolve()
    assert there == vietnamese.resolve() and back == english.resolve()
    with pytest.raises(ValueError, match="no other edition"):
        language_switch.other_edition_url(page, "fr")


def test_the_single_page_is_moved_where_its_links_lead(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.html").write_text("<html>the whole book</html>", encoding="utf-8")
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />',
                                         encoding="utf-8")
    editions._single_page_at_the_top(tmp_path)
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == "<html>the whole book</html>"


def test_publishing_an_edition_that_was_not_built_says_so(tmp_path):
    with pytest.raises(ValueError, match="build it first"):
        editions.publish("vi", tmp_path)


def test_the_vietnamese_catalogues_use_the_terms_the_glossary_chose():
    """bias is 'hệ số điều chỉnh' ('độ lệch' is the standard deviation's), recurrent 'hồi tiếp'
    ('hồi quy' is regression's), vanishing 'tiêu biến' ('triệt tiêu' is cancelling's)."""
    rival = {r"độ lệch(?! chuẩn)": "bias", r"hồi quy(?! logistic| tuyến tính)": "recurrent",
             r"triệt tiêu(?! lẫn nhau| nhau)": "vanishing"}
    found = []
    for path in sorted((LOCALES / "book").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                for pattern, term in rival.items():
                    if message.id and re.search(pattern, message.string or "", flags=re.I):
                        found.append((path.stem, term, message.string[:60]))
    assert found == []


@pytest.mark.parametrize("module, argv", [(editions, ["singlehtml", "en", "fr"]), (pdf, ["fr"]),
                                          (translations, ["verify"])])
def test_a_bad_input_is_one_line_on_stderr_and_exit_status_2(module, argv, capsys):
    with pytest.raises(SystemExit) as exit:
        module.main(argv)
    err = capsys.readouterr().err
    assert exit.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"{module.__name__}: error: ")
