"""The hardware a chapter runs on: the device and threads, timing done right, throughput and the
roofline, data and pipeline parallelism, and the scaling model of the GPU chapter's case study.
"""
