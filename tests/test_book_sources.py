"""Checks on the book's sources and build that a browser would not notice."""

import ast
import re
from pathlib import Path
from types import SimpleNamespace

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


@pytest.mark.browser
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


EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//(?!localhost|127\.0\.0\.1)[^"']+""")


@pytest.mark.slow
@pytest.mark.parametrize("page", ["activations", "conv_arithmetic"])
def test_plain_jupyter_book_build_keeps_widget_pages_offline(page, tmp_path, monkeypatch):
    """`jupyter-book build` without the Makefile: the explorers must still be static figures."""
    import subprocess
    import sys

    monkeypatch.delenv("DLCOURSE_BOOK_BUILD", raising=False)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", f"book/{page}.md",
               "--config", "_config.yml", "--path-output", str(tmp_path)]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    html = (tmp_path / "_build" / "_page" / page / "html" / f"{page}.html").read_text(encoding="utf-8")
    assert "widget-view+json" not in html and "require.min.js" not in html
    assert EXTERNAL.findall(html) == []
    assert "<img" in html  # the explorer's default figure


def load_extension(name: str):
    """One of the book's Sphinx extensions (book/_ext/NAME.py), loaded from its file (it is not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, BOOK / "_ext" / f"{name}.py")
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    return extension


def test_every_extension_of_the_book_is_loaded_and_each_file_is_one():
    """_config.yml names each file of book/_ext once, so no extension is written and never run."""
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    named = set(config["sphinx"]["local_extensions"])
    assert named == {path.stem for path in (BOOK / "_ext").glob("*.py")}
    for name in named:
        assert callable(load_extension(name).setup)


def test_the_book_executes_again_when_the_package_changes(tmp_path):
    extension = load_extension("fresh_outputs")
    (tmp_path / "dlcourse").mkdir()
    (tmp_path / "dlcourse" / "a.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    first = extension.code_hash(tmp_path)
    assert extension.code_hash(tmp_path) == first
    (tmp_path / "dlcourse" / "a.py").write_text("x = 2\n")
    assert extension.code_hash(tmp_path) != first
    assert extension.code_hash(REPO) != first
    second = extension.code_hash(tmp_path)
    for part in ("grading", "book"):   # no chapter runs these: a change there executes nothing again
        (tmp_path / "dlcourse" / part).mkdir()
        (tmp_path / "dlcourse" / part / "b.py").write_text("y = 1\n")
        assert extension.code_hash(tmp_path) == second
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "key.json").write_text("[]\n")   # data a chapter reads
    assert extension.code_hash(tmp_path) != second


def test_no_chapter_imports_the_grading_subsystem_or_the_book_tooling():
    """What the code hash leaves out (fresh_outputs.NOT_RUN_BY_CHAPTERS) must be what no chapter runs."""
    imports = [f"{page.name}: {line.strip()}" for page in sorted((REPO / "book").glob("*.md"))
               for line in page.read_text(encoding="utf-8").splitlines()
               if re.match(r"\s*(from|import)\s+dlcourse\.(grading|book)\b", line)]
    assert imports == []


def test_after_a_code_change_every_build_reads_its_pages_again_but_the_chapters_run_once(tmp_path):
    """The English, Vietnamese, gettext and single-page builds share one execution cache."""
    from types import SimpleNamespace

    extension = load_extension("fresh_outputs")
    (tmp_path / "dlcourse").mkdir()
    (tmp_path / "dlcourse" / "a.py").write_text("x = 1\n")
    cache = tmp_path / "_build" / ".jupyter_cache"

    def build(doctrees: str) -> bool:
        """One build's start and end; whether it read every page again."""
        app = SimpleNamespace(config=SimpleNamespace(nb_execution_cache_path=str(cache)), srcdir=str(tmp_path),
                              doctreedir=str(tmp_path / "_build" / doctrees))
        extension._execute_again_when_code_changed(app)
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "executed").touch()          # the chapters this build found in the cache or ran
        extension._remember_code_hash(app, None)
        return getattr(app, "_dlcourse_code_changed", False)

    assert build(".doctrees") and build("vi/.doctrees-html")       # first builds: everything read
    assert not build(".doctrees") and not build("vi/.doctrees-html")  # nothing changed: nothing read
    (tmp_path / "dlcourse" / "a.py").write_text("x = 2\n")
    (cache / "old-output").touch()
    assert build("vi/.doctrees-html")                               # the first build after the change...
    assert not (cache / "old-output").exists()                       # ...empties the cache (chapters run again)
    (cache / "new-output").touch()
    assert build(".doctrees")                                        # the other edition reads every page again
    assert (cache / "new-output").exists()                           # from the new cache, not running them twice


CODE_WIDTH = 77  # characters a code block of the book shows at 1280 px without scrolling (the browser test checks)


def displayed_code(text: str):
    """(line number, line) of the code a reader sees: code cells without their options and not hidden cells."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("```{code-cell}"):
            cursor, hidden = index + 1, False
            if cursor < len(lines) and lines[cursor] == "---":
                end = lines.index("---", cursor + 1)
                hidden = any("remove-cell" in line or "remove-input" in line for line in lines[cursor:end])
                cursor = end + 1
            while cursor < len(lines) and lines[cursor].startswith(":"):
                hidden |= "remove-cell" in lines[cursor] or "remove-input" in lines[cursor]
                cursor += 1
            while cursor < len(lines) and not lines[cursor].startswith("```"):
                if not hidden:
                    yield cursor + 1, lines[cursor]
                cursor += 1
            index = cursor
        index += 1


@pytest.mark.parametrize("chapter", sorted(BOOK.glob("*.md")), ids=lambda p: p.stem)
def test_chapter_code_fits_the_page(chapter):
    long = [f"{chapter.name}:{number}: {line}" for number, line in displayed_code(chapter.read_text(encoding="utf-8"))
            if len(line) > CODE_WIDTH]
    assert long == [], f"code lines wider than {CODE_WIDTH} characters scroll sideways in the book"


def glossary_terms():
    """Each glossary term with the Vietnamese name the book uses for it (the first italic text)."""
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^(\S[^\n]*)\n  \*([^*]+)\*", text, flags=re.M))


def key_term_rows(chapter):
    section = chapter.read_text(encoding="utf-8").split("## Key terms", 1)[1]
    return re.findall(r"^\| (.+?) \| (.+?) \|$", section, flags=re.M)[2:]  # after the header and the rule


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_key_terms_are_in_the_glossary_with_the_same_vietnamese(chapter):
    """One Vietnamese name per term across the book: a chapter's table names the glossary's term."""
    glossary = glossary_terms()
    assert len(glossary) >= 30
    rows = key_term_rows(chapter)
    assert rows, f"{chapter.stem} lists no key terms"
    for english, vietnamese in rows:
        term = re.fullmatch(r"\{term\}`(?:[^`<]+<)?([^`<>]+)>?`", english)
        assert term, f"{chapter.stem}: the key term {english!r} does not link to the glossary"
        name = term.group(1).strip()
        assert name in glossary, f"{chapter.stem}: {name!r} is not in the glossary"
        assert vietnamese.split(" (")[0] == glossary[name], (chapter.stem, name, vietnamese, glossary[name])


def test_no_page_uses_the_vietnamese_terms_the_book_replaced():
    """Terms Vietnamese courses do not use (issue 18), nowhere in the book (both editions), the assignments
    or the exams."""
    replaced = ("giảm dần đạo hàm", "tỉ lệ học", "bó con", "hệ số chệch", "trường tiếp nhận", "kết nối tắt",
                "sải bước", "phần đệm")
    sources = [*BOOK.glob("*.md"), *(REPO / "locales").rglob("*.po"), *(REPO / "exercises" / "source").rglob("*.md"),
               *(REPO / "dlcourse").rglob("*.py")]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for term in replaced:
            assert term not in text, f"{path.relative_to(REPO)} uses {term!r}"


def test_the_vietnamese_title_is_read_from_the_catalogue_even_on_a_clean_clone(tmp_path):
    """No .mo file exists before Sphinx compiles the catalogues, after the title is needed."""
    from types import SimpleNamespace

    extension = load_extension("vietnamese_edition")
    po = tmp_path / "locales" / "vi" / "LC_MESSAGES" / "book" / "intro.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "A book"\nmsgstr "Một cuốn sách"\n', encoding="utf-8")
    config = SimpleNamespace(language="vi", html_title="A book", root_doc="book/intro",
                             locale_dirs=["locales"], gettext_compact=False)
    app = SimpleNamespace(config=config, srcdir=str(tmp_path))
    extension._translate_title(app)
    assert config.html_title == "Một cuốn sách"
    assert not list(tmp_path.rglob("*.mo"))


# The from-scratch code each chapter teaches, shown next to the equations it implements from the
# one tested source: (page, source file, object) of a {literalinclude} with :pyobject:.  Where a
# method only delegates (RNNCell.forward, Adam.step), the page shows the function that holds the
# arithmetic (_rnn_step, _adam_update).
SHOWN_SOURCES = [
    ("backprop", "dlcourse/autograd.py", "Value.__mul__"),
    ("backprop", "dlcourse/autograd.py", "Value.backward"),
    ("backprop", "dlcourse/layer_gradients.py", "conv2d_backward"),
    ("backprop", "dlcourse/layer_gradients.py", "maxpool2d_backward"),
    ("optimisers", "dlcourse/optim.py", "SGD.step"),
    ("optimisers", "dlcourse/optim.py", "_adam_update"),
    ("recurrent", "dlcourse/models/recurrent.py", "_rnn_step"),
    ("recurrent", "dlcourse/models/recurrent.py", "_lstm_step"),
    ("recurrent", "dlcourse/models/recurrent.py", "_gru_step"),
    ("attention", "dlcourse/models/attention.py", "DotProductAttention.scores"),
    ("attention", "dlcourse/models/attention.py", "GeneralAttention.scores"),
    ("attention", "dlcourse/models/attention.py", "AdditiveAttention.scores"),
    ("attention", "dlcourse/models/attention.py", "CosineAttention.scores"),
    ("attention", "dlcourse/models/attention.py", "_attend"),
    ("attention", "dlcourse/models/attention.py", "MultiHeadAttention.forward"),
    ("gpus", "dlcourse/hardware/parallel.py", "train"),
]

LITERALINCLUDE = re.compile(r"^```\{literalinclude\} +(?P<path>\S+)\n(?P<options>(?::[\w-]+:.*\n)*)```$", re.M)


def literal_includes(page: Path):
    """(file, options) of each {literalinclude} of a page, the file resolved from the page's folder."""
    for match in LITERALINCLUDE.finditer(page.read_text(encoding="utf-8")):
        options = dict(re.fullmatch(r":([\w-]+):\s*(.*?)\s*", line).groups()
                       for line in match["options"].splitlines())
        yield (page.parent / match["path"]).resolve(), options


def python_object(source: Path, dotted: str):
    """The definition ``dotted`` names in a Python file (``name`` or ``Class.method``), or None."""
    node = ast.parse(source.read_text(encoding="utf-8"))
    for name in dotted.split("."):
        node = next((child for child in getattr(node, "body", [])
                     if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and child.name == name), None)
        if node is None:
            return None
    return node


def shown_code(path: Path, options: dict) -> str:
    """The code a {literalinclude} shows, cut and dedented by Sphinx itself."""
    from sphinx.directives.code import LiteralIncludeReader

    options = {key: (None if value == "" else value) for key, value in options.items()}
    if options.get("dedent") is not None:
        options["dedent"] = int(options["dedent"])
    return LiteralIncludeReader(str(path), options, SimpleNamespace(source_encoding="utf-8-sig")).read()[0]


def test_the_shown_sources_cover_the_chapters_that_teach_code_from_scratch():
    assert {page for page, _, _ in SHOWN_SOURCES} == {"backprop", "optimisers", "recurrent", "attention", "gpus"}


@pytest.mark.parametrize("page, source, pyobject", SHOWN_SOURCES, ids=lambda value: str(value))
def test_chapter_shows_the_code_it_teaches(page, source, pyobject):
    includes = [options for path, options in literal_includes(BOOK / f"{page}.md")
                if path == REPO / source and options.get("pyobject") == pyobject]
    assert includes, f"book/{page}.md has no {{literalinclude}} of {source} with :pyobject: {pyobject}"
    definition = python_object(REPO / source, pyobject)
    assert definition is not None, f"{source} defines no {pyobject}"
    text = ast.get_source_segment((REPO / source).read_text(encoding="utf-8"), definition)
    for options in includes:
        assert options.get("language") == "python"
        assert "lines" not in options, "show a whole object, or cut it at a line's text, not at line numbers"
        anchors = [options[key] for key in ("start-at", "start-after", "end-at", "end-before") if key in options]
        for anchor in anchors:
            assert anchor in text, f"{pyobject} no longer holds the line {anchor!r} the page cuts it at"


@pytest.mark.parametrize("chapter", sorted(BOOK.glob("*.md")), ids=lambda p: p.stem)
def test_included_code_exists_and_fits_the_page(chapter):
    """Every {literalinclude} names a file and an object that exist, and shows no line wider than the page."""
    long = []
    for path, options in literal_includes(chapter):
        assert path.is_file(), f"{chapter.name}: {path} does not exist"
        if "pyobject" in options:
            assert python_object(path, options["pyobject"]) is not None, (chapter.name, options["pyobject"])
        long += [f"{chapter.name}: {options.get('pyobject', path.name)}: {line}"
                 for line in shown_code(path, options).splitlines() if len(line) > CODE_WIDTH]
    assert long == [], f"included code wider than {CODE_WIDTH} characters scrolls sideways in the book"


@pytest.mark.parametrize("chapter", sorted(BOOK.glob("*.md")), ids=lambda p: p.stem)
def test_glue_is_in_hidden_cells(chapter):
    """``glue`` is plumbing for the prose: the reader sees the code a chapter teaches, and the glue
    calls that paste its numbers into the text sit in hidden cells (``remove-cell``) after it."""
    shown = [f"{chapter.name}:{number}: {line.strip()}"
             for number, line in displayed_code(chapter.read_text(encoding="utf-8"))
             if re.search(r"\bglue\b", line)]
    assert shown == []


HAND_PADDED = re.compile(r"""\{(['"])[^'"\n]*\1:[<>^]?\d+\}""")
"""A header cell padded by hand in an f-string, ``{'model':>8}``: a table for ``dlcourse.display.tables``."""


@pytest.mark.parametrize("chapter", sorted(BOOK.glob("*.md")), ids=lambda p: p.stem)
def test_no_table_is_padded_by_hand(chapter):
    padded = [f"{chapter.name}:{number}: {line.strip()}"
              for number, line in displayed_code(chapter.read_text(encoding="utf-8")) if HAND_PADDED.search(line)]
    assert padded == [], "print a table with dlcourse.display.tables.table"


def test_the_worked_exams_key_is_data_the_page_reads():
    """The printed key of the worked exam is data (book/exam_worked_key.json); the page's code
    computes what each row's computation gives and compares it with the number printed."""
    import json

    from dlcourse.vietnamese.writing import vietnamese

    key = json.loads((BOOK / "exam_worked_key.json").read_text(encoding="utf-8"))
    page = (BOOK / "exam_worked.md").read_text(encoding="utf-8")
    code = "\n".join(line for _, line in displayed_code(page))
    assert 'Path("exam_worked_key.json")' in code and 'zip(key["rows"], gives, strict=True)' in code
    assert set(key) == {"about", "terms", "rows"} and len(key["rows"]) == 15
    for row in key["rows"]:
        assert set(row) == {"question", "prints", "computation"}
        assert re.fullmatch(r"[1-4][a-e]", row["question"]) and isinstance(row["prints"], (int, float))
        vietnamese(row["computation"])  # a Markdown table's cells are translated in the Vietnamese edition
    terms = [n for value in key["terms"].values() for n in (value if isinstance(value, list) else [value])]
    left_in_code = [n for n in terms if n > 1000 and (f"{n:_}" in code or str(n) in code)]
    assert left_in_code == [], "the key's numbers belong in book/exam_worked_key.json"
