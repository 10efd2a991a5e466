"""Compare dlcourse.calc.summarize with torchinfo, thop, ptflops and fvcore.

Part 1, speed and memory: ResNet-50 at 1x3x224x224 and 1x3x2048x2048.  Each
tool runs in its own process with one thread; the process reports the MACs
the tool found, the first ("cold") call, the median of the next calls
("warm"), and peak memory above the process's memory right after
``import torch``.  Ratios are taken against dlcourse from the same run.

Part 2, accuracy on the peers' blind spots, against counts worked by hand:
nn.LSTM(128, 256, num_layers=2) on 100 time-first steps (91,750,400 MACs),
nn.MultiheadAttention(256, 8) on 64 tokens with need_weights=False
(18,874,368 MACs, 263,168 parameters), and a shape error.

Install the peers with ``pip install -r requirements-bench.txt`` (``make bench``
does it), then run ``python benchmarks/calc_vs_peers.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Callable

TOOLS = ["dlcourse", "dlcourse-meta-model", "torchinfo", "thop", "ptflops", "fvcore"]
SIZES = [224, 2048]
LSTM_TRUTH = 100 * 4 * 256 * (128 + 256) + 100 * 4 * 256 * (256 + 256)
MHA_TRUTH = 4 * 64 * 256 * 256 + 2 * 64 * 64 * 256
MHA_PARAMS = 4 * 256 * 256 + 4 * 256


def _memory_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _counter(tool: str) -> Callable:
    """A function (model, input_size) -> MACs for one tool."""
    import torch

    if tool.startswith("dlcourse"):
        from dlcourse.calc import summarize

        return lambda model, size: summarize(model, size).macs
    if tool == "torchinfo":
        from torchinfo import summary

        return lambda model, size: summary(model, input_size=size, verbose=0).total_mult_adds
    if tool == "thop":
        from thop import profile

        return lambda model, size: profile(model, inputs=(torch.zeros(size),), verbose=False)[0]
    if tool == "ptflops":
        from ptflops import get_model_complexity_info

        return lambda model, size: get_model_complexity_info(
            model, tuple(size[1:]), as_strings=False, print_per_layer_stat=False, verbose=False
        )[0]
    if tool == "fvcore":
        from fvcore.nn import FlopCountAnalysis

        def count(model, size):
            analysis = FlopCountAnalysis(model, (torch.zeros(size),))
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            return analysis.total()  # fvcore counts one "flop" per multiply-add

        return count
    raise ValueError(f"unknown tool {tool}")


def worker(tool: str, side: int) -> dict[str, object]:
    """Run one tool on ResNet-50 in this (fresh) process and report."""
    import torch

    from dlcourse.hardware.device import set_threads

    set_threads(1)
    after_import = _memory_kib("VmRSS")
    from dlcourse.hardware.timing import Stopwatch
    from dlcourse.models import resnet50

    if tool == "dlcourse-meta-model":
        with torch.device("meta"):
            model = resnet50().eval()
    else:
        model = resnet50().eval()
    count = _counter(tool)
    size = (1, 3, side, side)
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # restart the peak (VmHWM) from the memory in use now
    before_call = _memory_kib("VmRSS")
    with Stopwatch() as cold:
        macs = count(model, size)
    warm = []
    for _ in range(3 if side <= 512 else 1):
        with Stopwatch() as watch:
            count(model, size)
        warm.append(watch.seconds)
    peak = _memory_kib("VmHWM")
    return {
        "tool": tool,
        "side": side,
        "macs": int(macs),
        "cold_s": cold.seconds,
        "warm_s": statistics.median(warm),
        "peak_above_import_mb": (peak - after_import) / 1024,
        "peak_call_mb": (peak - before_call) / 1024,
    }


def blind_spots(tool: str) -> dict[str, object]:
    """What one tool reports for an LSTM, attention without weights, and a shape error."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    results: dict[str, object] = {"tool": tool}
    lstm = nn.LSTM(128, 256, num_layers=2)
    attention = nn.MultiheadAttention(256, 8)
    tokens = torch.zeros(64, 1, 256)
    try:
        if tool == "dlcourse":
            from dlcourse.calc import summarize

            results["lstm"] = summarize(lstm, (100, 1, 128)).macs
            mha = summarize(attention, [(64, 1, 256)] * 3, need_weights=False)
            results["mha"], results["mha_params"] = mha.macs, mha.params
            try:
                summarize(nn.Linear(10, 5), (1, 11))
                results["shape_error"] = "no error"
            except ValueError as error:
                results["shape_error"] = "ValueError: " + str(error)[:60]
        elif tool == "torchinfo":
            from torchinfo import summary

            results["lstm"] = summary(lstm, input_size=(100, 1, 128), verbose=0).total_mult_adds
            stats = summary(attention, input_data=[tokens, tokens, tokens], need_weights=False, verbose=0)
            results["mha"], results["mha_params"] = stats.total_mult_adds, stats.total_params
            results["shape_error"] = _shape_error(lambda: summary(nn.Linear(10, 5), input_size=(1, 11), verbose=0))
        elif tool == "thop":
            from thop import profile

            results["lstm"] = profile(lstm, inputs=(torch.zeros(100, 1, 128),), verbose=False)[0]
            macs, params = profile(attention, inputs=(tokens, tokens, tokens, None, False), verbose=False)
            results["mha"], results["mha_params"] = macs, params
            results["shape_error"] = _shape_error(lambda: profile(nn.Linear(10, 5), inputs=(torch.zeros(1, 11),),
                                                                  verbose=False))
        elif tool == "ptflops":
            from ptflops import get_model_complexity_info

            def info(model, constructor):
                return get_model_complexity_info(model, (1,), as_strings=False, print_per_layer_stat=False,
                                                 verbose=False, input_constructor=constructor)

            # time-first input given as it is; ptflops's default input would be batch-first
            results["lstm"] = info(lstm, lambda _: torch.zeros(100, 1, 128))[0]
            # its attention hook reads positional inputs only; keywords make it return None
            macs, params = info(attention, lambda _: {"query": tokens, "key": tokens, "value": tokens,
                                                      "need_weights": False})
            results["mha"], results["mha_params"] = macs, params
            outcome = get_model_complexity_info(nn.Linear(10, 5), (11,), as_strings=False, print_per_layer_stat=False,
                                                verbose=False)
            results["shape_error"] = f"returned {outcome!r} silently" if outcome[0] is None else "counted"
        elif tool == "fvcore":
            from fvcore.nn import FlopCountAnalysis, parameter_count

            def total(model, inputs):
                analysis = FlopCountAnalysis(model, inputs)
                analysis.unsupported_ops_warnings(False)
                analysis.uncalled_modules_warnings(False)
                return analysis.total()

            results["lstm"] = total(lstm, (torch.zeros(100, 1, 128),))
            results["mha"] = total(attention, (tokens, tokens, tokens, None, False))
            results["mha_params"] = parameter_count(attention)[""]
            results["shape_error"] = _shape_error(lambda: total(nn.Linear(10, 5), (torch.zeros(1, 11),)))
    except Exception as error:  # a peer failing is a result to report, not a crash
        results["error"] = f"{type(error).__name__}: {str(error)[:80]}"
    return results


def _shape_error(call: Callable[[], object]) -> str:
    try:
        call()
    except Exception as error:  # report whatever the peer raises
        return f"{type(error).__name__}"
    return "no error"


def _run(args: list[str]) -> dict[str, object]:
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=900)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        return {"error": (result.stderr.strip().splitlines() or ["no output"])[-1][:100]}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "SIDE"), help=argparse.SUPPRESS)
    parser.add_argument("--blind", metavar="TOOL", help=argparse.SUPPRESS)
    parser.add_argument("--tools", nargs="*", default=TOOLS)
    parser.add_argument("--sizes", nargs="*", type=int, default=SIZES)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return
    if args.blind:
        print(json.dumps(blind_spots(args.blind)))
        return

    print("Part 1: ResNet-50, one process per tool and size, 1 thread")
    print("peak MB: above the memory right after import torch (model weights included) / of the calls alone")
    header = (f"{'tool':<20} {'input':>6} {'MACs':>16} {'cold s':>8} {'warm s':>8} {'peak MB':>13} "
              f"{'warm vs dlcourse':>17}")
    print(header)
    print("-" * len(header))
    rows: dict[tuple[str, int], dict[str, object]] = {}
    for side in args.sizes:
        for tool in args.tools:
            row = _run(["--worker", tool, str(side)])
            rows[tool, side] = row
            if "error" in row:
                print(f"{tool:<20} {side:>6} failed: {row['error']}")
                continue
            ours = rows.get(("dlcourse", side), {})
            ratio = row["warm_s"] / ours["warm_s"] if ours.get("warm_s") else float("nan")
            peak = f"{row['peak_above_import_mb']:.0f} / {row['peak_call_mb']:.0f}"
            print(f"{tool:<20} {side:>6} {row['macs']:>16,} {row['cold_s']:>8.3f} {row['warm_s']:>8.3f} "
                  f"{peak:>13} {ratio:>16.1f}x")
    if ("dlcourse", 224) in rows and ("dlcourse", 2048) in rows:
        small, large = rows["dlcourse", 224], rows["dlcourse", 2048]
        if "error" not in small and "error" not in large:
            print(f"\ndlcourse warm time 2048 / 224: {large['warm_s'] / small['warm_s']:.2f}x")
    for side in args.sizes:
        ours = rows.get(("dlcourse", side), {})
        peer = rows.get(("torchinfo", side), {})
        if ours.get("cold_s") and peer.get("cold_s"):
            print(f"torchinfo / dlcourse at {side}: cold {peer['cold_s'] / ours['cold_s']:.1f}x, "
                  f"warm {peer['warm_s'] / ours['warm_s']:.1f}x")

    print(f"\nPart 2: blind spots (truth: LSTM {LSTM_TRUTH:,} MACs; "
          f"attention {MHA_TRUTH:,} MACs, {MHA_PARAMS:,} params)")
    header = f"{'tool':<10} {'LSTM MACs':>14} {'MHA MACs':>14} {'MHA params':>11}  shape error"
    print(header)
    print("-" * len(header))
    for tool in ["dlcourse", "torchinfo", "thop", "ptflops", "fvcore"]:
        row = _run(["--blind", tool])
        if "error" in row and "lstm" not in row:
            print(f"{tool:<10} failed: {row['error']}")
            continue
        lstm, mha, params = (_show(row.get(key)) for key in ("lstm", "mha", "mha_params"))
        print(f"{tool:<10} {lstm:>14} {mha:>14} {params:>11}  {row.get('shape_error', row.get('error'))}")


def _show(value: object) -> str:
    return f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)


if __name__ == "__main__":
    main()
