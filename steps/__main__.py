"""``python -m steps``: the one entrypoint of every step."""

import sys

from steps.runtime.harness import main

sys.exit(main(sys.argv[1:]))
