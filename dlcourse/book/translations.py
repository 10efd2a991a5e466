"""Is the Vietnamese edition in step with the English one?  A check of the message catalogues.

Every page of the book is a list of messages (paragraphs, headings, captions, glossary
entries); ``python -m dlcourse.book.editions gettext`` writes them, as they are now, into
``_build/gettext/book/<page>.pot``, and ``locales/vi/LC_MESSAGES/book/<page>.po`` holds
their translations.  For each page this check merges the translations into the current
messages, exactly as ``sphinx-intl update`` would, and counts the messages that are

- *translated*: the catalogue has a translation of this very text;
- *fuzzy* (out of date): the English text changed since it was translated, so the
  catalogue holds a translation of an older text (or one a translator marked unsure);
- *untranslated*: no translation at all (a new paragraph).

It also reads every translation for what must not change: a computed number
(``{glue:text}`key```, or ``key_vi`` where the chapter also glues the Vietnamese of a
computed sentence), a formula (``$...$``), inline code, a citation, the target of a
cross-reference or of a glossary term, a link.  A page fails when any of its messages is
fuzzy, untranslated or broken, so an English edit without its translation turns CI red
instead of drifting.

    python -m dlcourse.book.translations check           # after python -m dlcourse.book.editions gettext
    python -m dlcourse.book.translations check --language vi --templates _build/gettext
"""

from __future__ import annotations

import copy
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from dlcourse.command_line import CommandLine
from dlcourse.vietnamese.writing import vietnamese_math, vietnamese_numbers

ROOT = Path(__file__).resolve().parents[2]

_ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]*)`")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.DOTALL)
_CODE = re.compile(r"(?<![}`])`([^`]+)`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _role_key(role: str, text: str) -> str:
    """What a role must keep in a translation: its target (the shown words may change).

    A glued *text* (a sentence the chapter's code writes) may come in Vietnamese too: the
    translation pastes ``key_vi`` where the English pastes ``key``.
    """
    if role == "glue:text":
        key, colon, spec = text.partition(":")
        return f"{{{role}}}{key.removesuffix('_vi')}{colon}{spec}"
    if role in ("term", "ref", "doc", "numref"):
        target = re.search(r"<([^<>]+)>\s*$", text)
        return f"{{{role}}}" + (target.group(1) if target else text).strip().lower()
    return f"{{{role}}}{text}"


def _formula_key(formula: str) -> str:
    """What a translation must keep of a formula: all but the words in ``\\text{}`` and how
    its numbers are written (``0.9`` is ``0{,}9`` in Vietnamese)."""
    formula = re.sub(r"\\(text|mathrm|textrm)\{[^{}]*\}", r"\\\1{}", formula)
    return re.sub(r"(?<=\d)(?:\{[.,]\}|[.,])(?=\d)", "", formula)


_SEGMENT = re.compile(r"(?P<role>\{[\w:.-]+\}`[^`]*`)|(?P<math>\$\$.+?\$\$|\$[^$]+\$)"
                      r"|(?P<code>`[^`]+`)|(?P<link>\]\([^)\s]+\))", re.DOTALL)


def vietnamese_message(message: str) -> str:
    r"""A translation with its numbers the Vietnamese way: in its prose ``5.000`` and ``0,9``
    (``dlcourse.vietnamese.writing.vietnamese_numbers``), in its formulas ``0{,}9``; code, links and
    roles (a glued number is rewritten where it is pasted) stay as they are.

    >>> vietnamese_message("Sau 5,000 bước, $\\beta = 0.9$, `lr=0.01`, {glue:text}`g:.2f`.")
    'Sau 5.000 bước, $\\beta = 0{,}9$, `lr=0.01`, {glue:text}`g:.2f`.'
    """
    pieces, end = [], 0
    for match in _SEGMENT.finditer(message):
        pieces.append(vietnamese_numbers(message[end:match.start()]))
        pieces.append(vietnamese_math(match.group()) if match.group("math") else match.group())
        end = match.end()
    pieces.append(vietnamese_numbers(message[end:]))
    return "".join(pieces)


_NUMBER_TOKEN = re.compile(r"(?<![\w.,{])\d+(?:(?:[.,]|\{,\})\d+)+")
"""A number with a separator: the numbers English and Vietnamese write differently."""


def _written_numbers(message: str) -> Counter:
    """The numbers of a message as written, outside code, links and roles (formulas included)."""
    return Counter(_NUMBER_TOKEN.findall(_SEGMENT.sub(lambda m: m.group() if m.group("math") else " ", message)))


def number_problem(original: str, translation: str) -> str | None:
    r"""Why the numbers of a Vietnamese translation are not its original's written the
    Vietnamese way (``5,000`` → ``5.000``, ``0.9`` → ``0,9``, ``$0.9$`` → ``$0{,}9$``), or None.

    >>> number_problem("After 5,000 steps, $\beta = 0.9$.", "Sau 5.000 bước, $\beta = 0{,}9$.") is None
    True
    >>> print(number_problem("After 5,000 steps, $\beta = 0.9$.", "Sau 5,000 bước, $\beta = 0.9$."))
    numbers not written the Vietnamese way: 0.9, 5,000 (expected 0{,}9, 5.000)
    """
    # an original already in Vietnamese (an exam quoted in both languages) keeps its numbers as they are
    vietnamese_letters = sum(1 for char in original if not char.isascii() and char.isalpha())
    expected = original if vietnamese_letters >= 10 else vietnamese_message(original)
    want, have = _written_numbers(expected), _written_numbers(translation)
    if want == have:
        return None
    return (f"numbers not written the Vietnamese way: {', '.join(sorted((have - want).elements()))} "
            f"(expected {', '.join(sorted((want - have).elements()))})")


def fixed_parts(message: str) -> Counter:
    """The parts of a message a translation must keep: roles' targets, maths, code, links.

    >>> sorted(fixed_parts("At $x = 5$ the {term}`sigmoid` passes {glue:text}`g:.2f`.").elements())
    ['$x = 5$', '{glue:text}g:.2f', '{term}sigmoid']
    >>> fixed_parts("{term}`hàm sigmoid <sigmoid>`") == fixed_parts("the {term}`sigmoid`")
    True
    """
    parts: Counter = Counter()
    without_roles = _ROLE.sub(lambda m: parts.update([_role_key(m.group(1), m.group(2))]) or " ", message)
    without_maths = _MATH.sub(lambda m: parts.update([_formula_key(m.group(0))]) or " ", without_roles)
    parts.update(f"`{code}`" for code in _CODE.findall(without_maths))
    parts.update(f"link {url}" for url in _LINK.findall(without_maths))
    return parts


def markup_problem(original: str, translation: str) -> str | None:
    """Why a translation does not keep the fixed parts of its original, or None when it does.

    >>> markup_problem("Use $\\\\alpha$ here.", "Dùng $\\\\alpha$ ở đây.") is None
    True
    >>> print(markup_problem("It is {glue:text}`n:,` steps.", "Có 12 bước."))
    missing {glue:text}n:,
    """
    want, have = fixed_parts(original), fixed_parts(translation)
    missing, extra = want - have, have - want
    if not missing and not extra:
        return None
    words = [f"missing {part}" for part in sorted(missing.elements())]
    words += [f"unexpected {part}" for part in sorted(extra.elements())]
    return "; ".join(words)


@dataclass
class PageReport:
    """The state of one page's translation."""

    page: str
    total: int = 0
    translated: int = 0
    fuzzy: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.fuzzy or self.untranslated or self.broken)

    def line(self) -> str:
        def share(n: int) -> str:
            return f"{100 * n / self.total:5.1f} %" if self.total else "    - "

        return (f"{self.page:<28} {self.total:>5}  {share(self.translated)} translated  "
                f"{share(len(self.untranslated))} untranslated  {share(len(self.fuzzy))} fuzzy"
                + (f"  {len(self.broken)} broken" if self.broken else ""))


def _messages(catalog: Catalog):
    return [message for message in catalog if message.id and not isinstance(message.id, tuple)]


def check_page(template: Catalog, translations: Catalog | None, page: str) -> PageReport:
    """Merge a page's translations into its current messages and count what is missing.

    The merge is ``Catalog.update`` from Babel, what ``sphinx-intl update`` runs: a message
    whose English text changed keeps its old translation, marked fuzzy.
    """
    report = PageReport(page)
    merged = copy.deepcopy(translations) if translations is not None else Catalog(locale="vi")
    merged.update(template)
    for message in _messages(merged):
        report.total += 1
        short = " ".join(message.id.split())[:70]
        if message.fuzzy:
            report.fuzzy.append(short)
        elif not message.string:
            report.untranslated.append(short)
        else:
            problem = markup_problem(message.id, message.string)
            problem = "; ".join(filter(None, [problem, number_problem(message.id, message.string)])) or None
            if problem:
                report.broken.append(f"{short}: {problem}")
            else:
                report.translated += 1
    return report


def _read(path: Path) -> Catalog:
    try:
        with path.open("rb") as handle:
            return read_po(handle, abort_invalid=True)
    except (OSError, ValueError, PoFileError) as exc:
        raise ValueError(f"cannot read the catalogue {path}: {exc}") from exc


def check(templates: Path, locales: Path, language: str = "vi") -> list[PageReport]:
    """Check every page's catalogue of one language against the current templates."""
    pots = sorted(templates.rglob("*.pot"))
    if not pots:
        raise ValueError(f"no message templates in {templates}: run python -m dlcourse.book.editions gettext first")
    reports = []
    for pot in pots:
        page = pot.relative_to(templates).with_suffix("").as_posix()
        po = locales / language / "LC_MESSAGES" / f"{page}.po"
        reports.append(check_page(_read(pot), _read(po) if po.exists() else None, page))
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    """Check the catalogues: exit status 0 when every page is translated, 1 when one is not or the check cannot
    be made (its reason in one line on stderr), 2 for a bad input."""

    parser = CommandLine(prog="python -m dlcourse.book.translations", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["check"])
    parser.add_argument("--language", default="vi")
    parser.add_argument("--templates", type=Path, default=ROOT / "_build" / "gettext")
    parser.add_argument("--locales", type=Path, default=ROOT / "locales")
    parser.add_argument("--show", type=int, default=10, help="messages listed per page and kind (default 10)")
    args = parser.parse_args(argv)
    try:
        reports = check(args.templates, args.locales, args.language)
    except ValueError as exc:
        return parser.fail(exc)
    print(f"Translation of the book into {args.language!r}, page by page:")
    for report in reports:
        print(report.line())
    total = sum(r.total for r in reports)
    done = sum(r.translated for r in reports)
    print(f"{'all pages':<28} {total:>5}  {100 * done / max(total, 1):5.1f} % translated")
    failing = [r for r in reports if not r.ok]
    for report in failing:
        for kind in ("untranslated", "fuzzy", "broken"):
            items = getattr(report, kind)
            for item in items[: args.show]:
                print(f"  {report.page}: {kind}: {item}")
            if len(items) > args.show:
                print(f"  {report.page}: ... and {len(items) - args.show} more {kind}")
    if failing:
        print(f"FAILED: {len(failing)} page(s) not fully translated. Run `make translations` to bring the "
              f"catalogues in locales/{args.language} up to date, then translate the fuzzy and empty messages.")
        return 1
    print("OK: every message of every page is translated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
