"""How closely dlcourse.optim follows torch.optim: max |ours - torch's| per optimiser and option.

Each row runs 200 steps in float64 from the same start, on the non-convex loss of
tests/optim_cases.py, which tests/test_optim.py also runs (a tanh MLP on badly scaled data
plus a Rosenbrock ravine, in two parameter groups with different learning rates), and takes
the largest difference over all parameters and all steps.  The tests require at most 1e-9.

Run from the repository: ``.venv/bin/python -m benchmarks.optim_agreement``.
"""

from __future__ import annotations

from tests.optim_cases import CASES, STEPS, TOLERANCE, max_difference


def main() -> None:
    width = max(len(name) for name in CASES)
    print(f"{'optimiser and option':<{width}}  {'arguments':<60}  max |ours - torch| over {STEPS} steps")
    for name, (_, _, arguments) in CASES.items():
        difference, _ = max_difference(name)
        shown = ", ".join(f"{key}={value}" for key, value in arguments.items())
        verdict = "" if difference <= TOLERANCE else f"   above {TOLERANCE:g}!"
        print(f"{name:<{width}}  {shown:<60}  {difference:.3g}{verdict}")


if __name__ == "__main__":
    main()
