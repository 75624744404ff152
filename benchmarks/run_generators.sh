#!/usr/bin/env bash
# Train, sample and score one generator kind on a list of Dismai-Bench sets, one after another (resumable).
#
# Run: bash benchmarks/run_generators.sh KIND "DATASET:HOURS ..." [RUNS] [SIZE]
#      e.g. bash benchmarks/run_generators.sh cryingan "alloy-1500K-narrow:0.9 a-Si:0.4" runs/gen cpu
#
# Each set gets RUNS/KIND-SET/ (training directory) and RUNS/KIND-SET/dismai/ (generated.extxyz: 1000 samples,
# seed 0; report.md, report.json, plots), sampled and scored by ase-lcom benchmark dismai --generator. Rerunning
# resumes every step: training from last.pt up to HOURS of training in all, sampling and scoring from the
# benchmark's folder, which is cleared when the model is newer than its samples.
# Alloys are scored with the paper's alignment for the kind (ase_lcom.benchmarks.dismai.ALIGNMENT); a-Si
# without the Stillinger-Weber relaxation and with motif fingerprints of the first 100 samples
# (the CPU cost: about 2 s per structure). python benchmarks/generator_table.py --runs RUNS collects the table.
set -euo pipefail
kind=${1:?usage: run_generators.sh KIND "DATASET:HOURS ..." [RUNS] [SIZE]}
plan=${2:?usage: run_generators.sh KIND "DATASET:HOURS ..." [RUNS] [SIZE]}
runs=${3:-runs/gen}
size=${4:-cpu}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
read -ra items <<< "$plan"
for item in "${items[@]}"; do
    set_name=${item%%:*}
    hours=${item##*:}
    if [[ $item != *:* || ! $hours =~ ^[0-9]*[.]?[0-9]+$ ]]; then
        echo "run_generators.sh: '$item' is not DATASET:HOURS (e.g. a-Si:0.5)" >&2
        exit 2
    fi
    dir=$runs/$kind-$set_name
    seconds=$(awk -v h="$hours" 'BEGIN { printf "%.1f", h * 3600 }')
    echo "$(date -u +%FT%TZ) $kind $set_name: training for up to $hours h"
    ase-lcom train generator --kind "$kind" --dataset "$set_name" --out "$dir" --size "$size" \
        --max-seconds "$seconds" -q
    if [[ -s $dir/dismai/generated.extxyz && $dir/generator.pt -nt $dir/dismai/generated.extxyz ]]; then
        rm -rf "$dir/dismai"  # samples and scores of an earlier model
    fi
    echo "$(date -u +%FT%TZ) $kind $set_name: sampling 1000 (once) and scoring"
    score=()
    [[ $set_name == a-Si ]] && score=(--relax none --motif-limit 100)
    ase-lcom benchmark dismai --dataset "$set_name" --generator "$kind" --model "$dir" --out "$dir/dismai" \
        ${score[@]+"${score[@]}"} -q
    echo "$(date -u +%FT%TZ) $kind $set_name: done"
done
