"""Collect trained fixed-lattice generators and their Dismai-Bench scores into one table beside the paper's.

Run: python benchmarks/generator_table.py --runs runs/gen --out benchmarks/results/generators

Reads every ``RUNS/<kind>-<set>/`` that holds ``generator.pt``, ``history.json`` and ``dismai/report.json`` (written
by ``benchmarks/train_generators.py`` and ``ase-lcom benchmark dismai``) and writes ``OUT/generators.md``,
``OUT/generators.json`` and ``OUT/learning_curves.png`` (every run's losses per epoch); a folder
``uniform-random-<set>`` scored from ``benchmarks/random_baseline.py`` is listed as the floor (kind ``random``).
The budget column counts optimizer steps of the critics (CryinGAN) or the denoiser against the paper's: CryinGAN
on alloys 1,500 epochs over 64 shifted copies of 1,500 structures at batch 32; DiffCSP 1,000 epochs at batch 4;
CDVAE 1,000 epochs at batch 8.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import torch

PAPER_STEPS = {"cryingan": 1500 * (1500 * 64 // 32), "diffusion": 1000 * math.ceil(1500 / 4),
               "cdvae": 1000 * math.ceil(1500 / 8)}
"""Optimizer steps of the paper's models on a 1,500-structure set (Dismai-Bench settings)."""

PAPER_NAMES = {"cryingan": "CryinGAN", "diffusion": "DiffCSP", "cdvae": "CDVAE"}
"""The paper's row each of our generators is compared with."""

PAPER_ALLOYS = {  # Table 3: mean (min, max) over three models; the paper's sets, not ours
    ("alloy-300K-narrow", "cdvae"): ("0.0604 (0.0540, 0.0675)", "35.8"),
    ("alloy-300K-narrow", "diffusion"): ("0.0645 (0.0566, 0.0792)", "94.3"),
    ("alloy-300K-narrow", "cryingan"): ("0.117 (0.106, 0.126)", "100"),
    ("alloy-1500K-narrow", "cdvae"): ("0.0621 (0.0589, 0.0665)", "54.8"),
    ("alloy-1500K-narrow", "diffusion"): ("0.0308 (0.0304, 0.0313)", "91.7"),
    ("alloy-1500K-narrow", "cryingan"): ("0.0643 (0.0629, 0.0659)", "100"),
}
PAPER_SILICON = {  # Table 2: d_motif, d_rdf, d_angle, % failed; CryinGAN made no meaningful a-Si there
    "cdvae": ("0.0402", "0.392", "0.00332", "0.00"),
    "diffusion": ("0.0647", "1.39", "0.0103", "0.00"),
}


def steps_per_epoch(kind: str, train_config: dict[str, Any], n_structures: int) -> int:
    """Optimizer steps of one epoch (CryinGAN: critic steps; its generator steps once every interval)."""
    batch = int(train_config["batch_size"])
    if kind == "cryingan":
        copies = int(train_config["translations"]) ** 3
        per = int(train_config.get("shifts_per_epoch", 0))
        drawn = n_structures * (per if 0 < per < copies else copies)
        return max(1, drawn // batch)  # a short last batch is dropped unless it is the only one
    return math.ceil(n_structures / batch)


def collect(run: Path) -> dict[str, Any] | None:
    """One run's settings, budget, history and scores, or ``None`` when it is not complete.

    A folder ``uniform-random-<set>`` with only ``dismai/report.json`` (``benchmarks/random_baseline.py``) is the
    floor: kind ``random``, no training.
    """
    report_file, history_file, model_file = run / "dismai" / "report.json", run / "history.json", run / "generator.pt"
    if not report_file.exists():
        return None
    report = json.loads(report_file.read_text())
    base = {"run": run.name, "dataset": report["dataset"]["name"], "table": report["table"],
            "metrics": report["metrics"], "n_scored": report["n_scored"], "settings": report.get("settings", {}),
            "n_structures": int(report["dataset"]["n_structures"])}
    if run.name.startswith("uniform-random-"):
        return {**base, "kind": "random", "epochs": 0, "hours": 0.0, "steps": 0, "paper_steps": 0,
                "train_config": {}, "model_config": {}, "sampler": None, "parameters": 0, "history": []}
    if not (history_file.exists() and model_file.exists()):
        return None
    history = json.loads(history_file.read_text())
    content = torch.load(model_file, map_location="cpu", weights_only=False)
    kind, train_config = content["generator"], content["train_config"]
    n = base["n_structures"]
    steps = steps_per_epoch(kind, train_config, n) * len(history)
    return {**base, "kind": kind, "epochs": len(history), "hours": sum(r["seconds"] for r in history) / 3600,
            "steps": steps, "paper_steps": PAPER_STEPS[kind] * n // 1500, "train_config": train_config,
            "model_config": content["config"], "sampler": content.get("sampler"),
            "parameters": sum(int(v.numel()) for v in _tensors(content)), "history": history}


def _tensors(content: dict[str, Any]) -> list[torch.Tensor]:
    """The generating network's weights (CryinGAN: the generator only)."""
    state = content["models"]["generator"] if "models" in content else content["model"]
    return [v for v in state.values() if isinstance(v, torch.Tensor) and v.is_floating_point()]


def _value(metric: dict[str, float] | None) -> str:
    """An interval as ``value [lower, upper]``; ``n/a`` where nothing was scored."""
    if metric is None:
        return "n/a"
    return f"{metric['value']:.4g} [{metric['lower']:.4g}, {metric['upper']:.4g}]"


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _training(row: dict[str, Any]) -> str:
    """Epochs, hours and budget columns (``-`` for the untrained floor)."""
    if row["kind"] == "random":
        return "- | - | -"
    share = 100 * row["steps"] / row["paper_steps"]
    return f"{row['epochs']} | {row['hours']:.2f} | {row['steps']:,} of {row['paper_steps']:,} ({share:.2g}%)"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The alloy and a-Si tables, ours beside the paper's rows."""
    lines = ["# Fixed-lattice generators trained on the regenerated Dismai-Bench sets", "",
             "Ours: one model per generator and set, 1000 samples (seed 0), 95% pivotal bootstrap interval over the "
             "samples. Paper: mean (min, max) over three models, on the paper's sets (ours are regenerated: see "
             "each set's DATACARD). Budget: optimizer steps against the paper's for a set of this size.", "",
             "## Alloys (Table 3)", "",
             "| set | generator | epochs | training (h) | budget used | d_cluster [95% CI] | % with vacancies | "
             "mean vacancies | % failed | % mostly off the lattice | paper's d_cluster | paper's % with vacancies |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        if row["table"] != 3:
            continue
        m = row["metrics"]
        paper = PAPER_ALLOYS.get((row["dataset"], row["kind"]), ("-", "-"))
        name = PAPER_NAMES.get(row["kind"], "")
        lines.append(f"| {row['dataset']} | {row['kind']} | {_training(row)} | {_value(m['d_cluster'])} | "
                     f"{_number(m['percent_with_vacancies'])} | {_number(m.get('mean_vacancies'))} | "
                     f"{_number(m['percent_failed'])} | {_number(m.get('percent_mostly_off_lattice'))} | "
                     f"{name} {paper[0]} | {paper[1]} |")
    lines += ["", "## a-Si (Table 2)", "",
              "| generator | epochs | training (h) | budget used | d_motif | d_rdf | d_angle | % failed | "
              "paper's d_motif, d_rdf, d_angle, % failed |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        if row["table"] != 2:
            continue
        m = row["metrics"]
        paper = PAPER_SILICON.get(row["kind"])
        if paper:
            paper_text = f"{PAPER_NAMES[row['kind']]} {', '.join(paper)}"
        else:
            paper_text = "-" if row["kind"] == "random" else "none (CryinGAN failed on a-Si)"
        lines.append(f"| {row['kind']} | {_training(row)} | {_value(m['d_motif'])} | {_value(m['d_rdf'])} | "
                     f"{_value(m['d_angle'])} | {_number(m['percent_failed'])} | {paper_text} |")
    lines += ["", "## Models", "", "| run | parameters (generating network) | settings |", "| --- | --- | --- |"]
    for row in (r for r in rows if r["kind"] != "random"):
        keep = ("batch_size", "lr", "dist_weight", "translations", "shifts_per_epoch", "generator_interval")
        settings = {k: v for k, v in row["train_config"].items() if k in keep}
        if row["kind"] == "diffusion":
            settings.update({k: row["model_config"][k] for k in ("hidden", "num_layers", "cutoff", "max_neighbors",
                                                                  "sigma_max")})
            settings["sample_steps"] = (row["sampler"] or {}).get("sample_steps")
        lines.append(f"| {row['run']} | {row['parameters']:,} | {json.dumps(settings)} |")
    return "\n".join(lines) + "\n"


def plot_curves(rows: list[dict[str, Any]], path: Path) -> None:
    """One panel per run: its per-epoch losses (CryinGAN: the two Wasserstein estimates and the critic loss)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ase_lcom.training.generator_loop import plot_loss_curves

    columns = min(3, len(rows))
    fig, axes = plt.subplots(math.ceil(len(rows) / columns), columns, figsize=(5 * columns,
                             3.6 * math.ceil(len(rows) / columns)), squeeze=False)
    for ax, row in zip(axes.flat, rows, strict=False):
        keys = ["wasserstein_coord", "wasserstein_dist"] if row["kind"] == "cryingan" else ["loss"]
        plot_loss_curves(row["history"], keys=keys, ax=ax)
        if row["kind"] == "cryingan":
            ax.set_yscale("symlog")
        ax.set_title(f"{row['kind']} on {row['dataset']} ({row['hours']:.2f} h)")
    for ax in list(axes.flat)[len(rows):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/gen")
    parser.add_argument("--out", default="benchmarks/results/generators")
    args = parser.parse_args()
    if not Path(args.runs).is_dir():
        raise SystemExit(f"no folder {args.runs}")
    rows = [row for run in sorted(Path(args.runs).iterdir()) if run.is_dir() and (row := collect(run))]
    if not rows:
        raise SystemExit(f"no complete run (generator.pt, history.json, dismai/report.json) under {args.runs}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "generators.md").write_text(markdown(rows))
    (out / "generators.json").write_text(json.dumps([{k: v for k, v in r.items() if k != "history"} for r in rows],
                                                    indent=1))
    plot_curves([r for r in rows if r["kind"] != "random"], out / "learning_curves.png")
    print((out / "generators.md").read_text())


if __name__ == "__main__":
    main()
