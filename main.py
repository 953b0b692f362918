"""Planner Workbench entry point: the GUI by default, CLI sub-commands for batch use.

``python main.py SUBCOMMAND ...`` is the same as ``workbench SUBCOMMAND ...``.
"""

import multiprocessing
import sys

from workbench.cli import main

if __name__ == "__main__":
    # The UI runs heavy jobs in worker processes ("spawn" in a frozen bundle): without this a
    # frozen child would start the whole app again instead of the worker.
    multiprocessing.freeze_support()
    sys.exit(main())
