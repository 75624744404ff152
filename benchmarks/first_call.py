"""First predictions in a fresh process for formulas with elements not used before: no first-use stalls.

    OMP_NUM_THREADS=1 python benchmarks/first_call.py
"""
import os
import tempfile
import time

os.environ["ASE_LCOM_CACHE"] = tempfile.mkdtemp()  # no cached references: only what the package ships
import torch

torch.set_num_threads(1)
from threadpoolctl import threadpool_limits

from ase_lcom import LCOMPredictor

t0 = time.perf_counter(); p = LCOMPredictor(); t1 = time.perf_counter()
print(f"load {t1-t0:.2f} s")
formulas = ["KBr", "RbI", "SrSe", "BaTe", "AgCl", "CuBr", "GaN", "AlP", "InSb", "LiH", "ScN", "TiC"]
with threadpool_limits(1):
    for k, f in enumerate(formulas):
        t = time.perf_counter(); c = p.predict_candidates(f, formula_units=1)
        print(f"{k+1:2d} {f:5s} {time.perf_counter()-t:5.1f} s  best {c[0].info['spacegroup']}")
