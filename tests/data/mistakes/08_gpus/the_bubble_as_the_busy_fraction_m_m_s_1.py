
def bubble_fraction(stages, micro_batches):
    return micro_batches / (micro_batches + stages - 1)

def pipeline_step_time(stage_time, stages, micro_batches):
    return (micro_batches + stages - 1) * stage_time / micro_batches
