"""Read real crystal datasets into ase-lcom records, split them by composition and plot their statistics.

Run: python examples/read_datasets.py path/to/dataset.{db,extxyz,csv,json} [summary.png]
(e.g. the CDVAE perov_5 CSV, a Matbench mp_e_form JSON, an OPTIMADE response, or datasets/default/default.db)
"""

import sys

from ase_lcom.data.readers import read_records
from ase_lcom.data.splits import split_by_composition
from ase_lcom.data.summary import plot_summary, public, summarize

records = list(read_records(sys.argv[1]))  # corrupt rows are skipped with a warning naming them
splits = split_by_composition(records, (0.8, 0.1, 0.1), seed=0)
print({name: len(part) for name, part in splits.items()})
summary = summarize(records)
print(public(summary))
plot_summary(summary, sys.argv[2] if len(sys.argv) > 2 else "summary.png")
