import torch

# Timings and results do not depend on thread count; one thread keeps CI's two cores calm.
torch.set_num_threads(1)
