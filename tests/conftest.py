import torch

# Timings and results do not depend on thread count; one thread keeps CI's two cores calm.
torch.set_num_threads(1)

# `make unit` runs the fast loop: pytest -m "not browser and not slow".  Each test that needs more
# says so itself: `browser` (the built book, PDFs, Chromium) or `slow` (the sandbox's kernels, the
# book's builds, graded classes), as a `pytestmark` for a whole file or a decorator on one test.
