"""Planner Workbench entry point: the GUI by default, CLI sub-commands for batch use.

``python main.py SUBCOMMAND ...`` is the same as ``workbench SUBCOMMAND ...``.
"""

import sys

from workbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
