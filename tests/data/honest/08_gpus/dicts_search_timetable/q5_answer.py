
def _gpipe_length(stages, micro_batches, slot):
    finish = [[0.0] * micro_batches for _ in range(stages)]
    for s in range(stages):
        free = 0.0
        for m in range(micro_batches):
            ready = finish[s - 1][m] if s > 0 else 0.0
            free = finish[s][m] = max(free, ready) + slot
    return 2 * finish[-1][-1]                 # the backward pass mirrors the forward one


def bubble_fraction(stages, micro_batches):
    busy = micro_batches * 2.0                # each stage, forward and backward slots of 1
    return 1 - busy / _gpipe_length(stages, micro_batches, 1.0)


def pipeline_step_time(stage_time, stages, micro_batches):
    return _gpipe_length(stages, micro_batches, stage_time / micro_batches / 2)
