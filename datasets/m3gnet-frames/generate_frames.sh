#!/usr/bin/env bash
# Training frames for the shipped M3GNet (issue #22); see DATACARD.md. Resumable: rerun the same line.
#   bash datasets/m3gnet-frames/generate_frames.sh gpaw     # GPAW-labelled small cells (hours, one core)
#   bash datasets/m3gnet-frames/generate_frames.sh chgnet   # CHGNet-labelled pretraining frames (cheap)
# WORKERS=2 runs two tasks at once (one core each); the stored frames do not depend on it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# CSP26 first (NaCl, MgO, Si leading), then more of the default dataset's chemistry, then elements
GPAW_COMPOSITIONS="NaCl,MgO,Si,LiF,ZnO,CsCl,ZnS,NaF,KCl,CaO,BeO,LiCl,KF,SrO,MgS,CaS,C,CdO,BeS,CdS,RbF,RbCl,CsF,BaO,SrS,BaS,\
AlN,GaN,GaAs,AlP,SiC,BN,KBr,NaBr,LiBr,NaI,KI,CsI,MgSe,CaSe,ZnSe,CdTe,InP,Li2O,Na2O,CaF2,MgF2,SrF2,TiO2,\
Li,Na,K,Mg,Ca,Al,Zn"
case "${1:-}" in
  gpaw)
    exec python -m ase_lcom.cli data generate --out "$here/gpaw.db" --compositions "$GPAW_COMPOSITIONS" \
      --n-random 1 --max-atoms 8 --workers "${WORKERS:-1}" --keep-frames 5 --frame-strains=-0.03,-0.015,0.015,0.03 \
      --frame-rattles 1 --frame-rattle 0.1 --frames-calculator gpaw --frames-max-atoms 8 --frames-label-steps 2 \
      --gpaw-ecut 700 --gpaw-kpt-density 2.5 ;;
  chgnet)
    # the default dataset's 240 compositions, without its leakage controls (a validator may know the polymorphs)
    compositions="$(python -c 'from ase_lcom.data.compositions import default_compositions as d; print(",".join(d()))')"
    exec python -m ase_lcom.cli data generate --out "$here/chgnet.db" --compositions "$compositions" --n-random 1 \
      --max-atoms 8 --workers 1 --keep-frames 10 --frame-strains=-0.03,0.03 --frame-rattles 1 --frame-rattle 0.1 ;;
  *) echo "usage: $0 gpaw|chgnet" >&2; exit 2 ;;
esac
