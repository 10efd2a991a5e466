"""``python -m dlcourse.exam``: write exams and their answer keys."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from dlcourse.command_line import CommandLine
from dlcourse.exam.generator import generate
from dlcourse.exam.render import FORMATS, LANGUAGES, render

EXTENSIONS = {"md": "md", "html": "html", "pdf-md": "pdf.md"}


def main(argv: Sequence[str] | None = None) -> int:
    """Write the exams and keys; exit status 2 for a bad input, 1 when they cannot be written (one line on stderr)."""
    parser = CommandLine(
        prog="python -m dlcourse.exam",
        description="Write an exam in the style of the book's worked exam and a separate answer key.",
        epilog="example: python -m dlcourse.exam --seed 1 --variants 40 --lang vi --format html --out exams/",
    )
    parser.add_argument("--seed", type=int, default=0, help="the exam's number; the same seed gives the same exam")
    parser.add_argument("--lang", default="en", help=f"language: {' or '.join(LANGUAGES)}")
    parser.add_argument("--format", default="md",
                        help=f"output format: {', '.join(FORMATS)} (Markdown with page breaks for pandoc)")
    parser.add_argument("--variants", type=int, default=1, help="write this many exams, seeds SEED, SEED+1, ...")
    parser.add_argument("--out", type=Path, default=Path("exams"), help="folder for the files (created if missing)")
    args = parser.parse_args(argv)
    if args.lang not in LANGUAGES or args.format not in FORMATS:
        parser.error(f"--lang must be one of {', '.join(LANGUAGES)} and --format one of {', '.join(FORMATS)}; "
                     f"got {args.lang!r} and {args.format!r}")
    if args.variants < 1:
        parser.error(f"--variants must be at least 1, got {args.variants}")
    try:
        written = write(args.seed, args.variants, args.lang, args.format, args.out)
    except (ValueError, OSError) as error:
        return parser.fail(error)
    for path in written:
        print(path)
    return 0


def write(seed: int, variants: int, lang: str, fmt: str, out: Path) -> list[Path]:
    """Write ``variants`` exams and keys into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for number in range(seed, seed + variants):
        exam = generate(number)
        for kind, is_key in (("exam", False), ("key", True)):
            path = out / f"{kind}-{number}-{lang}.{EXTENSIONS[fmt]}"
            path.write_text(render(exam, lang, fmt, key=is_key), encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    sys.exit(main())
