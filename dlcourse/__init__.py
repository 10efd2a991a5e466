"""dlcourse: the helper package of the dlcourse deep-learning course.

``dlcourse.calc`` answers exam-style questions (shapes, parameters, MACs,
FLOPs, memory, training cost); ``dlcourse.models`` holds networks written
from scratch.
"""

__version__ = "0.1.0"
