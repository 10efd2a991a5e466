"""The book's editions: the English book, the Vietnamese one, their catalogues and single pages.

``jupyter-book build .`` builds the English book into ``_build/html``, as always.  The
Vietnamese edition is the same chapters with Sphinx's own internationalisation: every
paragraph, heading, admonition, caption and glossary entry is a message, and
``locales/vi/LC_MESSAGES/book/<page>.po`` holds its Vietnamese translation.  The code
is not translated and runs once: both editions read the same execution cache, so they
show the same outputs and the same numbers.

This module builds, with Jupyter Book's own configuration (``_config.yml``, ``_toc.yml``)
and only the language changed:

- ``vi``: the Vietnamese edition into ``_build/vi/html``, copied into ``_build/html/vi``,
  so that one site holds both (the language switch on every page leads across);
- ``gettext``: the message templates of the English pages into ``_build/gettext``
  (what ``dlcourse.book.translations`` checks the catalogues against);
- ``singlehtml``: the whole book on one page, ``index.html``, per edition (what
  ``dlcourse.book.pdf`` prints).

    python -m dlcourse.book.editions vi                 # after jupyter-book build .
    python -m dlcourse.book.editions gettext
    python -m dlcourse.book.editions singlehtml en vi
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from dlcourse.command_line import CommandLine

LANGUAGES: dict[str, str] = {"en": "English", "vi": "Tiếng Việt"}
"""The editions, by language code, with the name a reader of that language knows."""

ROOT = Path(__file__).resolve().parents[2]
"""The course repository (the book's sources, ``_config.yml`` and ``_toc.yml``)."""


def output_dir(builder: str, language: str, root: Path = ROOT) -> Path:
    """Where a build of one edition goes.

    >>> output_dir("html", "en", Path("/course")).as_posix()
    '/course/_build/html'
    >>> output_dir("html", "vi", Path("/course")).as_posix()
    '/course/_build/vi/html'
    >>> output_dir("singlehtml", "vi", Path("/course")).as_posix()
    '/course/_build/vi/singlehtml'
    """
    _check_language(language)
    base = root / "_build" if language == "en" else root / "_build" / language
    return base / builder


def site_folder(language: str) -> str:
    """An edition's folder in the one site both editions share: "" for English, "vi/" for Vietnamese.

    >>> site_folder("en"), site_folder("vi")
    ('', 'vi/')
    """
    _check_language(language)
    return "" if language == "en" else f"{language}/"


def site_dir(language: str, root: Path = ROOT) -> Path:
    """Where an edition's pages are in the one site both editions share.

    >>> site_dir("vi", Path("/course")).as_posix()
    '/course/_build/html/vi'
    """
    return root / "_build" / "html" / site_folder(language)


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown edition {language!r}: expected one of {', '.join(LANGUAGES)}")


def edition(language: str) -> str:
    """An edition named on a command line (argparse's ``type``): its language code, or argparse's refusal.

    >>> edition("vi")
    'vi'
    """
    try:
        _check_language(language)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return language


def build(builder: str, language: str, root: Path = ROOT, warnings_are_errors: bool = True) -> Path:
    """Build one edition with one Sphinx builder, the way ``jupyter-book build`` does.

    The configuration is the book's own; only the language, the output folder and the
    doctree folder differ, and every build reads the execution cache of
    ``jupyter-book build .`` (``_build/.jupyter_cache``), so no chapter is executed twice.
    Returns the output folder; raises ``RuntimeError`` when Sphinx reports a failure.
    """
    from jupyter_book.sphinx import build_sphinx

    out = output_dir(builder, language, root)
    overrides = {
        "external_toc_path": (root / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "language": language,
        "nb_execution_cache_path": (root / "_build" / ".jupyter_cache").as_posix(),
    }
    result = build_sphinx(
        root,
        out,
        noconfig=True,
        path_config=(root / "_config.yml").as_posix(),
        confoverrides=overrides,
        doctreedir=(out.parent / f".doctrees-{builder}").as_posix(),
        builder=builder,
        warningiserror=warnings_are_errors,
        keep_going=True,
    )
    if result != 0:
        raise RuntimeError(f"the {LANGUAGES[language]} {builder} build failed (see the messages above)")
    if builder == "singlehtml":
        _single_page_at_the_top(out)
    return out


def _single_page_at_the_top(out: Path) -> None:
    """Put the single page in ``index.html``, where its links to ``_static`` and ``_images`` lead.

    The book's root page is ``book/intro``, so Sphinx writes the single page to
    ``book/intro.html`` with links relative to the output folder, and ``index.html`` only
    redirects to it.
    """
    index = out / "index.html"
    redirect = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', index.read_text(encoding="utf-8"))
    if redirect:
        shutil.copyfile(out / redirect.group(1), index)


def publish(language: str, root: Path = ROOT) -> Path:
    """Copy a built edition's HTML into the shared site (``_build/html/<language>``)."""
    if language == "en":
        return site_dir("en", root)
    source, target = output_dir("html", language, root), site_dir(language, root)
    if not (source / "index.html").exists():
        raise ValueError(f"no {LANGUAGES[language]} edition in {source}: build it first")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees*"))
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Build what the command line asks; exit status 2 for a bad input, 1 when a build fails (one line on stderr)."""

    parser = CommandLine(prog="python -m dlcourse.book.editions", description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["vi", "gettext", "singlehtml"], help="what to build")
    parser.add_argument("languages", nargs="*", type=edition, default=["en", "vi"],
                        help="the editions, for singlehtml (default: en vi)")
    args = parser.parse_args(argv)
    done: list[Path] = []
    try:
        if args.what == "vi":
            build("html", "vi")
            done.append(publish("vi"))
        elif args.what == "gettext":
            done.append(build("gettext", "en"))
        else:
            for language in args.languages:
                done.append(build("singlehtml", language))
    except (RuntimeError, ValueError) as exc:
        return parser.fail(exc)
    for path in done:
        print(f"built {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
