"""The CSP benchmark of the LCOM paper (Tables 1-2): 26 binary compounds, every predictor on one footing.

- :mod:`~ase_lcom.benchmarks.csp.references`: the reference polymorphs, their relaxation by the validating
  calculator, the experimental ground states;
- :mod:`~ase_lcom.benchmarks.csp.runner`: the metrics of a prediction and the resumable run (``rows.jsonl``,
  its ``settings.json``);
- :mod:`~ase_lcom.benchmarks.csp.report`: totals per predictor and seed, the markdown tables;
- :mod:`~ase_lcom.benchmarks.csp.plots`: the report's figure;
- :mod:`~ase_lcom.benchmarks.csp.dft`: the GPAW cross-check of the MLIP's energy ordering.

The structure-matching and energy metrics themselves are :mod:`ase_lcom.metrics`.
"""

from ase_lcom.benchmarks.csp.dft import dft_check
from ase_lcom.benchmarks.csp.plots import grouped_bars, plot_report
from ase_lcom.benchmarks.csp.references import (
    DEGENERACY_MEV,
    ELEMENTS,
    EXPERIMENTAL_GROUND_STATES,
    ReferenceCacheError,
    Validator,
    accepted_structures,
    compute_references,
    experimental_units,
    ground_state_units,
    reference_polymorphs,
)
from ase_lcom.benchmarks.csp.report import COUNTS, compound_cell, count_text, markdown_report, summarize
from ase_lcom.benchmarks.csp.runner import (
    ROW_KEY,
    benchmark_row,
    check_run_settings,
    evaluate,
    matches,
    run_csp_benchmark,
    score,
)

__all__ = [
    "COUNTS", "DEGENERACY_MEV", "ELEMENTS", "EXPERIMENTAL_GROUND_STATES", "ROW_KEY", "ReferenceCacheError", "Validator",
    "accepted_structures", "benchmark_row", "check_run_settings", "compound_cell", "compute_references", "count_text",
    "dft_check", "evaluate", "experimental_units", "ground_state_units", "grouped_bars", "markdown_report", "matches",
    "plot_report", "reference_polymorphs", "run_csp_benchmark", "score", "summarize",
]
