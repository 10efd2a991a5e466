
def training_cost(macs_per_sample, batch_size, dataset_size, epochs):
    batches = -(-dataset_size // batch_size)
    per_batch = macs_per_sample * batch_size * 2
    return [per_batch, per_batch * batches, per_batch * batches * epochs]
