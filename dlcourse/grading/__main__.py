"""``python -m dlcourse.grading``: the course's grading commands (``dlcourse.grading.commands``)."""

import sys

from dlcourse.grading.commands import main

if __name__ == "__main__":
    sys.exit(main())
