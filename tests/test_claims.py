"""Sentences that read a measurement made while the book is built: every one is guarded or chosen by the data.

``dlcourse.display.claims.check`` stops the build when a sentence of the page would be false on the
machine building it; ``choose`` and ``glue_sentence`` let the data write the sentence, in
both editions.  The inventory below is the list of them, chapter by chapter: a guard that
disappears, or a new measurement without its guard, fails here.
"""

import ast
import re
from pathlib import Path

import pytest

from dlcourse.display import claims

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
CATALOGUES = REPO / "locales" / "vi" / "LC_MESSAGES" / "book"

#: Per chapter: ("check", words of the page it guards) or ("sentence", glue key the data writes).
INVENTORY = {
    "activations": [
        ("check", "ReLU trains faster than tanh"),
        ("check", "On every one of the"),
    ],
    "attention": [
        ("check", "reverses short strings perfectly and falls apart on long ones"),
        ("check", "on every seed"),
        ("check", "one column to the *right* of the exact anti-diagonal"),
    ],
    # reports its training runs' numbers (median and range over seeds) and interprets none of them
    "cnn_architectures": [],
    "gpus": [
        ("sentence", "where"),
        ("sentence", "mm_small"),
        ("sentence", "mm_bfloat16"),
        ("sentence", "mm_float16"),
        ("sentence", "compare"),
        ("sentence", "compare"),
        ("check", "which training tolerates"),
        ("check", "float32 round-off"),
        ("sentence", "ddp_speed"),
    ],
    "neural_nets": [
        ("check", "it is the same network computing the same function"),
        ("check", "fewer mistakes than the fully connected one on every seed"),
        ("check", "scrambling takes that advantage away"),
        ("check", "the degree-9 fit did worse on new points than the cubic"),
    ],
    "optimisers": [
        ("check", "within 10 % at every batch size"),
        ("check", "at every one of its"),
        ("check", "Nesterov ends closest"),
        ("check", "never crosses it and heads straight down the valley"),
        ("check", "overshoots the minimum along the floor"),
        ("check", "a well-chosen plain step wins"),
        ("check", "the adaptive methods are ahead"),
        ("check", "plain SGD's seeds spread from"),
        ("check", "follows Adam closely"),
        ("check", "gives a reasonable result on all three"),
        ("check", "divided it three times"),
    ],
    "transformers": [
        ("check", "changing the last tokens changes no earlier prediction"),
        ("sentence", "ln_early"),
        ("check", "the pre-LN models end within 25 % of the floor"),
        ("check", "it writes the same few sentences again and again"),
        ("check", "after training the pre-LN models write mostly grammatical sentences"),
        ("check", "Cooling to 0.5 raises the share"),
        ("check", "heating to 1.5 lowers it"),
        ("check", "In every model some head looks there more than an even spread would"),
    ],
    "recurrent": [
        ("check", "It is the start of the sequence that matters, not the distance"),
        ("check", "so their curves have no bend"),
        ("check", "stays close to guessing on every one of the"),
        ("check", "its loss stays near"),
        ("sentence", "gated_reading"),
        ("check", "the additive cell path keeps a gradient"),
        ("check", "the plain RNN learns it on"),
    ],
}

#: Functions whose results depend on the machine or on a training run's luck.
MEASURING = {"matmul_throughput", "memory_bandwidth", "time_it", "train_data_parallel", "run_local",
             "training_error_curves", "scrambled_digits_accuracies", "train_digits_cnn", "compare_optimisers",
             "alexnet_recipe", "train_sequence_models", "train_reversal", "train_language_model"}
#: Training runs that take one seed: a chapter must call them with a seed that varies (a loop's variable).
ONE_SEED = MEASURING & {"training_error_curves", "scrambled_digits_accuracies", "train_digits_cnn",
                        "alexnet_recipe", "train_sequence_models", "train_reversal", "train_language_model"}


def chapter_parts(text: str):
    """(code cells' sources, prose) of a MyST notebook."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```$", text, flags=re.S | re.M)
    code = [re.sub(r"\A(?:---\n.*?\n---\n|(?::[^\n]*\n)+)", "", cell, flags=re.S) for cell in cells]
    prose = re.sub(r"^```\{code-cell\}[^\n]*\n.*?^```$", " ", text, flags=re.S | re.M)
    return code, " ".join(prose.split())


def calls(code):
    """Every call in the chapter's code: (function name, ast.Call)."""
    for source in code:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                yield name, node


def inventory(code):
    """The chapter's guards and data-written sentences, in order."""
    found = []
    for name, node in calls(code):
        if name in ("check", "choose", "glue_sentence") and isinstance(node.args[0], ast.Constant):
            found.append(("check" if name == "check" else "sentence", node.args[0].value))
    return found


CHAPTERS = sorted(BOOK.glob("*.md"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_has_the_guards_of_the_inventory(chapter):
    code, _ = chapter_parts(chapter.read_text(encoding="utf-8"))
    measures = sorted({name for name, _ in calls(code)} & MEASURING)
    if measures:
        assert chapter.stem in INVENTORY, (f"{chapter.name} measures ({', '.join(measures)}) but has no entry in the "
                                           "inventory: guard what its prose says about the measurement")
    assert inventory(code) == INVENTORY.get(chapter.stem, [])


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_guard_quotes_its_page_and_every_written_sentence_is_on_both_editions(chapter):
    code, prose = chapter_parts(chapter.read_text(encoding="utf-8"))
    catalogue = CATALOGUES / f"{chapter.stem}.po"
    translated = catalogue.read_text(encoding="utf-8") if catalogue.exists() else ""
    for kind, text in inventory(code):
        if kind == "check":
            assert text in prose, f"{chapter.name}: the guard quotes {text!r}, which the page does not say"
        else:
            assert f"{{glue:text}}`{text}`" in prose, f"{chapter.name}: the sentence {text!r} is never shown"
            assert f"{{glue:text}}`{text}_vi`" in translated, (
                f"{chapter.name}: the Vietnamese edition does not show the Vietnamese sentence {text}_vi")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_training_runs_are_repeated_over_seeds(chapter):
    code, _ = chapter_parts(chapter.read_text(encoding="utf-8"))
    for name, node in calls(code):
        keywords = {k.arg: k.value for k in node.keywords}
        if name in ONE_SEED:
            seed = keywords.get("seed")
            assert seed is not None and not isinstance(seed, ast.Constant), (
                f"{chapter.name}: {name} runs one fixed seed; run it for several (seed=<loop variable>)")
        if name == "compare_optimisers" and "seeds" in keywords:
            seeds = keywords["seeds"]
            assert isinstance(seeds, (ast.List, ast.Tuple)) and len(seeds.elts) >= 3, (
                f"{chapter.name}: compare_optimisers with fewer than 3 seeds")


#: Where the book speaks of the machine that builds it.
THIS_MACHINE = re.compile(r"\b(this (machine|CPU|device|build|computer)|the machine that built|built on)\b", re.I)
#: What must not be written into such a sentence: a number (the data gives it).
FIXED_FIGURE = re.compile(r"\b\d[\d,.]*\b")
#: A count of cores or threads: a fact of one machine, allowed only beside a named device of the book's data
#: (a published GPU, the case study's CPU, the README's reference machine), never of the build machine.
CORE_COUNT = re.compile(r"\b(\d[\d,]*|two|three|four|six|eight|twelve|sixteen)[ -](cores?|threads?)\b", re.I)
NAMED_DEVICE = re.compile(r"GTX|RTX|A100|H100|T4|V100|Pentium|reference machine")
#: CPU makers and models: the page names the build machine's CPU only through describe_device.
CPU_NAME = re.compile(r"\b(Intel|AMD|EPYC|Xeon|Ryzen|Threadripper|Graviton|Apple M\d)\b")


def sentences(prose: str):
    without_roles = re.sub(r"\{[\w:.-]+\}`[^`]*`", "X", prose)
    without_maths = re.sub(r"\$\$.+?\$\$|\$[^$]+\$", "X", without_roles, flags=re.S)
    return re.split(r"(?<=[.!?:;])\s+", without_maths)


def machine_figures(prose: str):
    """Sentences that write a figure of the build machine into the prose."""
    return [s for s in sentences(prose) if (THIS_MACHINE.search(s) and FIXED_FIGURE.search(s))
            or (CORE_COUNT.search(s) and not NAMED_DEVICE.search(s))]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_nothing_about_the_build_machine_is_written_into_the_prose(chapter):
    _, prose = chapter_parts(chapter.read_text(encoding="utf-8"))
    assert machine_figures(prose) == [], f"{chapter.name}: a figure of the build machine written into the prose"
    assert not CPU_NAME.search(prose), f"{chapter.name} names a CPU: {CPU_NAME.search(prose).group(0)}"


def test_the_inventory_finds_what_it_looks_for():
    """The parser itself, on a chapter written here: a hidden cell's guard, a choice, a fixed seed."""
    text = ('Words.\n\n```{code-cell} ipython3\n:tags: [remove-cell]\nclaims.check("it works", x > 1, "x")\n'
            'claims.choose("key", True, ("a", "b"), ("c", "d"))\n```\n\nIt works: {glue:text}`key`.\n\n'
            '```{code-cell} ipython3\nrun = train_digits_cnn(epochs=4, seed=0)\n```\n')
    code, prose = chapter_parts(text)
    assert inventory(code) == [("check", "it works"), ("sentence", "key")]
    assert "It works" in prose and "claims" not in prose
    [(name, node)] = [(n, c) for n, c in calls(code) if n == "train_digits_cnn"]
    assert isinstance({k.arg: k.value for k in node.keywords}["seed"], ast.Constant)   # what the seed test refuses
    # what the prose test refuses: the sentence an earlier GPU chapter printed on every machine
    assert machine_figures("Both processes also share the same two cores of a busy machine. It is slow.") == [
        "Both processes also share the same two cores of a busy machine."]
    assert machine_figures("This build reached 91.7 GFLOP/s.") and not machine_figures("This build reached X GFLOP/s.")
    assert not machine_figures("The GTX 1060 has 1,280 cores. A two-core Pentium G4560 fed it.")


def test_a_false_claim_stops_the_build_and_says_why():
    with pytest.raises(claims.ClaimError, match=r'says "GRU wins", but this build measured GRU 20 %'):
        claims.check("GRU wins", 0.2 > 0.9, "GRU 20 %")
    claims.check("GRU wins", 0.95 > 0.9, "GRU 95 %")


@pytest.mark.parametrize("call, message", [
    (lambda: claims.check("", True, "x"), "claim must quote"),
    (lambda: claims.check("it holds", 1, "x"), "holds must be a bool"),
    (lambda: claims.choose("a key", True, ("a", "b"), ("c", "d")), "glue name"),
    (lambda: claims.choose("key", True, ("only English",), ("c", "d")), "pair"),
    (lambda: claims.glue_sentence("key", "English", ""), "vietnamese sentence"),
])
def test_claims_refuse_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_choose_picks_by_the_data():
    assert claims.choose("k", 2 > 1, ("more", "nhiều hơn"), ("less", "ít hơn")) == ("more", "nhiều hơn")
    assert claims.choose("k", 2 < 1, ("more", "nhiều hơn"), ("less", "ít hơn")) == ("less", "ít hơn")
