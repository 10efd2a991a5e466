"""Checks on the book's sources and build that a browser would not notice."""

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if p.stem not in {"intro", "glossary", "bibliography"})


def cited_keys():
    keys = set()
    for page in BOOK.glob("*.md"):
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text(encoding="utf-8")):
            keys.update(key.strip() for key in group.split(","))
    return keys


def test_built_bibliography_lists_every_cited_work():
    html = REPO / "_build" / "html" / "book" / "bibliography.html"
    if not html.exists():
        pytest.fail("the book is not built: run `make book`")
    entries = html.read_text(encoding="utf-8").count('role="doc-biblioentry"')
    assert entries == len(cited_keys())
    for required in ("rumelhart1986", "lecun1998", "krizhevsky2012", "kingma2015"):
        assert required in cited_keys()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_follows_the_pattern(chapter):
    text = chapter.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front["jupytext"]["text_representation"]["format_name"] == "myst"
    assert "## Check yourself" in text and ":class: dropdown" in text
    assert "## Key terms" in text and "Tiếng Việt" in text
    assert "{term}`" in text
    assert "```{code-cell}" in text
    if chapter.stem != "preface":
        assignment = re.search(r"## Graded assignment\n\nAssignment `(\w+)`", text)
        assert assignment, f"{chapter.stem} does not point to its graded assignment"
        assert (REPO / "exercises" / "source" / assignment.group(1) / f"{assignment.group(1)}.md").exists()


def test_every_chapter_is_in_the_table_of_contents():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    chapters = [c for part in toc["parts"] for c in part["chapters"]]
    files = {toc["root"]} | {c["file"] for c in chapters} | {s["file"] for c in chapters for s in c.get("sections", [])}
    assert {f"book/{p.stem}" for p in BOOK.glob("*.md")} == files
