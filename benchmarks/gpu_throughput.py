"""Measured matmul FLOP/s and copy bandwidth on this machine's best device (CUDA, MPS or the CPU).

Prints the device it measured on, a table of sizes x dtypes (median GFLOP/s, with the
slowest and fastest repeat), the copy bandwidth, the measured ridge point, and the
published peaks of ``dlcourse.hardware.gpu.PUBLISHED_GPUS`` beside them (labelled published).

    python benchmarks/gpu_throughput.py                       # the best device here
    python benchmarks/gpu_throughput.py --device cpu --sizes 256 512 --nbytes 268435456
"""

from __future__ import annotations

import argparse
import os

from dlcourse.hardware import gpu
from dlcourse.hardware.device import set_threads


def _gflops(flops: int, seconds: float) -> float:
    return flops / seconds / 1e9


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best one here)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16", "float16"])
    parser.add_argument("--nbytes", type=int, default=2**30,
                        help="bytes copied for the bandwidth (default 1 GiB: above most last-level caches)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's own)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        set_threads(args.threads)

    dev = gpu.device() if args.device is None else args.device
    print(f"measured on  {gpu.describe_device(dev)}")
    if hasattr(os, "getloadavg"):  # a busy machine spreads the CPU figures: say how busy it was
        print(f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    results = gpu.matmul_throughput(args.sizes, args.dtypes, dev, repeats=args.repeats, warmup=2)
    print(f"\nn x n matmul, 2 n^3 FLOPs each, median of {args.repeats} repeats after 2 warm-up calls")
    print(f"{'dtype':>9} {'n':>6} {'median ms':>10} {'GFLOP/s':>9} {'range (slowest-fastest)':>24}")
    best = {}
    for r in results:
        if r.timing is None:
            print(f"{r.dtype:>9} {r.size:>6} {'-':>10} {'-':>9}   {r.note}")
            continue
        t = r.timing
        rate = _gflops(r.flops, t.median)
        best[r.dtype] = max(best.get(r.dtype, 0.0), rate)
        span = f"{_gflops(r.flops, t.max):.1f}-{_gflops(r.flops, t.min):.1f}"
        print(f"{r.dtype:>9} {r.size:>6} {t.median * 1e3:>10.3f} {rate:>9.1f} {span:>24}")

    bw = gpu.memory_bandwidth(args.nbytes, dev, repeats=args.repeats, warmup=2)
    t = bw.timing
    print(f"\ncopy of {args.nbytes / 2**20:.0f} MiB (read + write = {bw.bytes_moved / 2**20:.0f} MiB): "
          f"median {t.median * 1e3:.2f} ms, {bw.bytes_per_s / 1e9:.2f} GB/s "
          f"(range {bw.bytes_moved / t.max / 1e9:.2f}-{bw.bytes_moved / t.min / 1e9:.2f} GB/s)")
    for dtype, rate in best.items():
        print(f"measured ridge point, {dtype}: {rate * 1e9 / bw.bytes_per_s:.1f} FLOP/B "
              f"(best {rate:.1f} GFLOP/s / {bw.bytes_per_s / 1e9:.2f} GB/s)")

    print("\npublished peaks (vendor figures, not measured here):")
    print(f"{'GPU':>22} {'FP32 TFLOP/s':>13} {'FP16 tensor':>12} {'BF16 tensor':>12} {'GB/s':>6} {'GB':>4} "
          f"{'ridge FP32':>11}")
    for spec in gpu.PUBLISHED_GPUS.values():
        fp16 = "-" if spec.fp16_tensor_tflops is None else f"{spec.fp16_tensor_tflops:g}"
        bf16 = "-" if spec.bf16_tensor_tflops is None else f"{spec.bf16_tensor_tflops:g}"
        print(f"{spec.name:>22} {spec.fp32_tflops:>13g} {fp16:>12} {bf16:>12} {spec.bandwidth_gbs:>6g} "
              f"{spec.memory_gb:>4g} {spec.ridge_point('float32'):>11.1f}")
    if "float32" in best:
        a100 = gpu.PUBLISHED_GPUS["A100 SXM 80 GB"]
        share = gpu.fraction_of_peak(best["float32"] * 1e9, a100.peak_flops("float32"))
        print(f"\nbest float32 here is {share:.2%} of an A100's published FP32 peak")


if __name__ == "__main__":
    main()
