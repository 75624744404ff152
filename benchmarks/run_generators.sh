#!/usr/bin/env bash
# Train, sample and score one generator kind on a list of Dismai-Bench sets, one after another (resumable).
#
# Run: bash benchmarks/run_generators.sh KIND "DATASET:HOURS ..." [RUNS] [SIZE]
#      e.g. bash benchmarks/run_generators.sh cryingan "alloy-1500K-narrow:0.9 a-Si:0.4" runs/gen cpu
#
# Each set gets RUNS/KIND-SET/ (training directory), RUNS/KIND-SET/generated.extxyz (1000 samples) and
# RUNS/KIND-SET/dismai/ (report.md, report.json, plots). Rerunning resumes every step: training from last.pt
# up to HOURS of training in all, sampling is redone only when the model is newer than the samples (which
# clears the old scores), scoring resumes from its cache.
# Alloys are scored with the paper's alignment for the kind (fixed: CryinGAN; translate: diffusion; rotate:
# CD-VAE); a-Si without the Stillinger-Weber relaxation and with motif fingerprints of the first 100 samples
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
    if [[ ! -s $dir/generated.extxyz || $dir/generator.pt -nt $dir/generated.extxyz ]]; then
        echo "$(date -u +%FT%TZ) $kind $set_name: sampling 1000"
        rm -rf "$dir/dismai"  # its cache holds the scores of an earlier sample
        ase-lcom sample "$dir" -n 1000 -o "$dir/generated.part.extxyz"
        mv "$dir/generated.part.extxyz" "$dir/generated.extxyz"
    fi
    echo "$(date -u +%FT%TZ) $kind $set_name: scoring"
    case $set_name in
        a-Si) score=(--relax none --motif-limit 100) ;;
        *) case $kind in cryingan) score=(--align fixed) ;; cdvae) score=(--align rotate) ;;
                         *) score=(--align translate) ;; esac ;;
    esac
    ase-lcom benchmark dismai --dataset "$set_name" --structures "$dir/generated.extxyz" \
        --out "$dir/dismai" "${score[@]}" -q
    echo "$(date -u +%FT%TZ) $kind $set_name: done"
done
