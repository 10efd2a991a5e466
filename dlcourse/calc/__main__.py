"""``python -m dlcourse.calc``: the same as the ``dlcourse-calc`` command."""

import sys

from dlcourse.calc.cli import main

sys.exit(main())
