"""Polymorph orderings by several calculators: how often two of them order a compound's polymorphs alike.

The inputs are reference caches of :func:`ase_lcom.benchmarks.csp.references.compute_references` (each
compound's reference polymorphs relaxed with their symmetry kept; one cache per calculator). Every pair of
polymorphs of a compound that both calculators relaxed is one comparison; a pair that either calculator puts
within ``tie`` eV/atom of each other is a tie and not judged (the CSP benchmark's own degeneracy window is
10 meV/atom). Only total energies of one composition are compared, so a calculator's elemental references,
and hence its formation energies, play no part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

References = Mapping[str, Mapping[str, Any]]
"""A reference cache: formula -> {"polymorphs": {name: {"energy_per_atom": ...}}, "experimental": ...}."""

TIE = 0.01
"""eV/atom: pairs closer than this by either calculator are ties (the CSP benchmark's degeneracy window)."""


@dataclass
class PairAgreement:
    """How two calculators' polymorph orderings compare over the compounds both relaxed."""

    first: str
    second: str
    compounds: int = 0
    judged: int = 0
    agreed: int = 0
    ties: int = 0
    same_ground_state: int = 0
    disagreements: list[str] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        """Agreeing share of the judged pairs (``None`` when none was judged)."""
        return self.agreed / self.judged if self.judged else None


def energies_above_lowest(reference: Mapping[str, Any]) -> dict[str, float]:
    """Each polymorph's energy above the compound's lowest one, eV/atom."""
    energies = {name: float(p["energy_per_atom"]) for name, p in reference["polymorphs"].items()}
    lowest = min(energies.values())
    return {name: energy - lowest for name, energy in energies.items()}


def compare(first: References, second: References, names: tuple[str, str] = ("first", "second"),
            tie: float = TIE) -> PairAgreement:
    """Compare the orderings of two reference caches over the compounds in both (module docstring)."""
    result = PairAgreement(*names)
    for formula in sorted(set(first) & set(second)):
        a, b = energies_above_lowest(first[formula]), energies_above_lowest(second[formula])
        common = sorted(set(a) & set(b))
        if len(common) < 2:
            continue
        result.compounds += 1
        result.same_ground_state += min(common, key=a.get) == min(common, key=b.get)
        for p, q in combinations(common, 2):
            gap_a, gap_b = a[p] - a[q], b[p] - b[q]
            if abs(gap_a) < tie or abs(gap_b) < tie:
                result.ties += 1
                continue
            result.judged += 1
            if (gap_a > 0) == (gap_b > 0):
                result.agreed += 1
            else:
                result.disagreements.append(f"{formula} {p} - {q}: {1000 * gap_a:+.0f} ({names[0]}) vs "
                                            f"{1000 * gap_b:+.0f} ({names[1]}) meV/atom")
    return result


def agreement_table(caches: Mapping[str, References], tie: float = TIE) -> list[PairAgreement]:
    """:func:`compare` for every pair of calculators, in the order given."""
    return [compare(caches[a], caches[b], (a, b), tie) for a, b in combinations(caches, 2)]


def experimental_ground_states(references: References, tie: float = TIE) -> tuple[int, int]:
    """(compounds whose experimental structure type is the calculator's lowest or within ``tie`` of it,
    compounds with an experimental structure type among their polymorphs)."""
    hits = total = 0
    for reference in references.values():
        experimental = reference.get("experimental")
        if experimental not in reference["polymorphs"] or len(reference["polymorphs"]) < 2:
            continue
        total += 1
        hits += energies_above_lowest(reference)[experimental] < tie
    return hits, total


def markdown(caches: Mapping[str, References], tie: float = TIE) -> str:
    """The agreement of every calculator pair, the experimental ground states, and each compound's energies."""
    lines = [f"| calculators | compounds | pairs judged | agree | ties (< {1000 * tie:.0f} meV/atom) | "
             "same lowest polymorph |", "| --- | --- | --- | --- | --- | --- |"]
    for row in agreement_table(caches, tie):
        share = f"{row.agreed}/{row.judged} ({100 * row.share:.0f}%)" if row.share is not None else "-"
        lines.append(f"| {row.first} / {row.second} | {row.compounds} | {row.judged} | {share} | {row.ties} | "
                     f"{row.same_ground_state}/{row.compounds} |")
    lines += ["", "| calculator | experimental structure type lowest (or within the tie window) |", "| --- | --- |"]
    for name, references in caches.items():
        hits, total = experimental_ground_states(references, tie)
        lines.append(f"| {name} | {hits}/{total} |")
    formulas = sorted(set().union(*caches.values()), key=lambda f: (f not in next(iter(caches.values())), f))
    lines += ["", "Energy above each compound's lowest polymorph, meV/atom (experimental type in bold):", "",
              "| compound | polymorph | " + " | ".join(caches) + " |", "| --- | --- |" + " --- |" * len(caches)]
    for formula in formulas:
        polymorphs = sorted(set().union(*(c[formula]["polymorphs"] for c in caches.values() if formula in c)))
        above = {name: energies_above_lowest(c[formula]) for name, c in caches.items() if formula in c}
        experimental = next(c[formula].get("experimental") for c in caches.values() if formula in c)
        for polymorph in polymorphs:
            label = f"**{polymorph}**" if polymorph == experimental else polymorph
            cells = [f"{1000 * above[n][polymorph]:.0f}" if polymorph in above.get(n, {}) else "-" for n in caches]
            lines.append(f"| {formula} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_orderings(caches: Mapping[str, References], path: Any, reference: str | None = None) -> None:
    """Energies above the lowest polymorph by each calculator against ``reference``'s (default: the first)."""
    import matplotlib.pyplot as plt

    reference = reference or next(iter(caches))
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    top = 0.0
    for name, cache in caches.items():
        if name == reference:
            continue
        xs, ys = [], []
        for formula in sorted(set(cache) & set(caches[reference])):
            a, b = energies_above_lowest(caches[reference][formula]), energies_above_lowest(cache[formula])
            for polymorph in sorted(set(a) & set(b)):
                xs.append(1000 * a[polymorph])
                ys.append(1000 * b[polymorph])
        ax.scatter(xs, ys, s=18, alpha=0.8, label=f"{name} ({len(xs)} polymorphs)")
        top = max([top, *xs, *ys])
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    ax.set_xlabel(f"{reference}: energy above the lowest polymorph (meV/atom)")
    ax.set_ylabel("other calculator (meV/atom)")
    ax.set_title("CSP26 reference polymorphs (each relaxed by each calculator)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
