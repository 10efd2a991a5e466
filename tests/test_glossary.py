"""dlcourse.vietnamese.glossary.TERMS and the book's glossary (book/glossary.md) name every term alike, entry by
entry."""

import re
from pathlib import Path

import pytest

from dlcourse.vietnamese import glossary

GLOSSARY = Path(__file__).resolve().parents[1] / "book" / "glossary.md"


def glossary_pairs(text):
    """(English headword, Vietnamese name) for every entry of the ``{glossary}`` block, in order.

    Parsed here, independently of dlcourse.vietnamese.glossary: inside the block a headword is a line that
    is not indented, and the next line is indented and starts with the Vietnamese name in
    italics, ``*name*``.  An entry written any other way is an error, not a skipped term.
    """
    opening, closing = "```{glossary}", "```"
    lines = text.splitlines()
    start = lines.index(opening) + 1
    end = lines.index(closing, start)
    block = lines[start:end]
    pairs = []
    for number, line in enumerate(block):
        if not line.strip() or line[0] in " \t":
            continue
        following = block[number + 1] if number + 1 < len(block) else ""
        body = following.strip()
        assert following[:1] in (" ", "\t") and body.startswith("*") and body.index("*", 1) > 1, (
            f"glossary entry {line!r}: the next line must be indented and start with the Vietnamese name, *name*")
        pairs.append((line.strip(), body[1:body.index("*", 1)]))
    return pairs


def test_the_book_and_the_package_name_the_same_terms_alike():
    pairs = glossary_pairs(GLOSSARY.read_text(encoding="utf-8"))
    headwords = [english for english, _ in pairs]
    assert len(headwords) == len(set(headwords)), "a headword appears twice in book/glossary.md"
    assert len(pairs) >= 80  # the whole block was read, not the first entry
    book = set(pairs)
    package = set(glossary.TERMS.items())
    assert book - package == set(), "in book/glossary.md but not (or named otherwise) in glossary.TERMS"
    assert package - book == set(), "in glossary.TERMS but not (or named otherwise) in book/glossary.md"


def test_the_comparison_fails_on_a_renamed_added_or_removed_term():
    """The check above can fail: the same parse of an edited glossary no longer equals TERMS."""
    text = GLOSSARY.read_text(encoding="utf-8")
    english, name = "stride", glossary.TERMS["stride"]
    entry = f"\n{english}\n  *{name}*"
    assert entry in text
    renamed = text.replace(entry, f"\n{english}\n  *{name} mới*")
    added = text.replace(entry, f"\nzebra stripes\n  *sọc ngựa vằn* — a made-up term.\n{entry}")
    removed = text.replace(entry, "\n")
    for edited in (renamed, added, removed):
        assert set(glossary_pairs(edited)) != set(glossary.TERMS.items())
    with pytest.raises(AssertionError, match="must be indented"):
        glossary_pairs(text.replace(entry, f"\n{english}\n  {name}"))  # the name not in italics


def test_an_unknown_term_names_itself_and_where_terms_are_defined():
    assert glossary.vietnamese("cross-entropy") == dict(glossary_pairs(GLOSSARY.read_text(encoding="utf-8")))[
        "cross-entropy"]
    with pytest.raises(ValueError, match=r"'heavy ball' is not a glossary term.*book/glossary\.md"):
        glossary.vietnamese("heavy ball")


KEY_TERM_ROW = re.compile(r"^\| \{term\}`([^`<]+?)(?: <([^>]+)>)?` \| ([^|]+?) \|$", re.M)


@pytest.mark.parametrize("chapter", sorted(p.name for p in GLOSSARY.parent.glob("*.md") if p.name != "glossary.md"))
def test_each_chapters_key_terms_use_the_glossarys_vietnamese_names(chapter):
    """A chapter's key-term table (| {term}`english` | vietnamese |) says what the glossary says
    (a note in parentheses may follow the name)."""
    rows = KEY_TERM_ROW.findall((GLOSSARY.parent / chapter).read_text(encoding="utf-8"))
    pairs = dict(glossary_pairs(GLOSSARY.read_text(encoding="utf-8")))
    wrong = {}
    for shown, target, vietnamese in rows:
        term = target or shown
        headword = next((h for h in pairs if h.lower() == term.lower()), None)
        name = pairs.get(headword)
        if name is None or not (vietnamese == name or vietnamese.startswith(f"{name} (")):
            wrong[term] = (vietnamese, pairs.get(headword))
    assert wrong == {}, f"{chapter}: key terms named otherwise than in the glossary (table, glossary): {wrong}"
