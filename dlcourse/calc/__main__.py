"""``python -m dlcourse.calc``: the same as the ``dlcourse-calc`` command."""

import sys

from .cli import main

sys.exit(main())
