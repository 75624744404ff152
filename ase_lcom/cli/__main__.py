"""``python -m ase_lcom.cli``: the ``ase-lcom`` command."""

import sys

from ase_lcom.cli import main

sys.exit(main())
