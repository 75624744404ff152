#!/usr/bin/env bash
# The command line, end to end (each step prints what it wrote).
set -euo pipefail
ase-lcom list                                                   # calculators, predictors, generators, the shipped model
ase-lcom predict ZnO --plot zno_lcom.png                        # shipped LCOM model -> ZnO_lcom.cif
ase-lcom predict ZnO --rank-by chgnet -o ZnO_ranked.cif        # candidates ranked by CHGNet single points
ase-lcom predict ZnO --relax -o ZnO_relaxed.extxyz              # + CHGNet relaxation and re-ranking
ase-lcom predict NaCl --predictor ras                           # a GN-OA baseline through the same interface
ase-lcom relax ZnO_lcom.cif --formation                         # validate a prediction
ase-lcom benchmark csp26 --compounds NaCl,ZnO --predictors lcom,ras --out csp-mini
