"""Grade the class of attacks (tests/attacks.py) through both entry points; print what each got.

For every attack: the autograded points it earned (its stub answers earn 0 honestly) and
the grader's time; for the class: whether the package or the sources changed, processes
left running, connections to the host's listeners, files written outside.  The same
class is what ``tests/test_grading_attacks.py`` asserts on.

Run: ``.venv/bin/python benchmarks/grading_attacks.py``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from attacks import ATTACKS  # noqa: E402
from test_grading_attacks import PACKAGE, _tree_hashes, full_points, run_attacks  # noqa: E402


def main() -> None:
    rows = {}
    summary = {}
    for entry_point in ("dlcourse.grading", "nbgrader"):
        with tempfile.TemporaryDirectory() as folder:
            outcome = run_attacks(entry_point, Path(folder))
            scores = outcome["scores"]
            full = full_points(outcome["course"])
            for kind in ATTACKS:
                rows.setdefault(kind, {})[entry_point] = scores.get(f"attack_{kind}", {}).get("auto", "no grade")
            rows.setdefault("(classmate: the solution)", {})[entry_point] = scores.get("classmate", {}).get("auto")
            rows.setdefault("(honest stubs)", {})[entry_point] = scores.get("stubs", {}).get("auto")
            changed = [name for name, hashes in outcome["before"].items()
                       if hashes != _tree_hashes({"package": PACKAGE, "course source": outcome["course"] / "source",
                                                  "repository source": REPO / "exercises" / "source",
                                                  "elsewhere": outcome["elsewhere"]}[name])]
            summary[entry_point] = (f"{outcome['seconds']:.1f} s for {len(scores)} notebooks; exit code "
                                    f"{outcome['result'].returncode}; changed: {', '.join(changed) or 'nothing'}; "
                                    f"left running: {len(outcome['left_running'])}; "
                                    f"connections: {outcome['connections']}; "
                                    f"grades changed afterwards: {outcome['scores_later'] != scores}")
    print(f"autograded points out of {full} (the stub answers earn 0)")
    print(f"{'attack':<28} {'dlcourse.grading.commands':>17} {'nbgrader':>9}")
    for kind, by_entry in rows.items():
        print(f"{kind:<28} {str(by_entry.get('dlcourse.grading.commands')):>17} {str(by_entry.get('nbgrader')):>9}")
    for entry_point, text in summary.items():
        print(f"{entry_point}: {text}")


if __name__ == "__main__":
    main()
