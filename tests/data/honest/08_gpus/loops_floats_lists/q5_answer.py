
from fractions import Fraction


def bubble_fraction(stages, micro_batches):
    return float(Fraction(stages - 1, micro_batches + stages - 1))


def pipeline_step_time(stage_time, stages, micro_batches):
    slot = stage_time / micro_batches              # one micro-batch on one stage
    fill_and_drain = (stages - 1) * slot
    return micro_batches * slot + fill_and_drain
