"""The Fe60Ni20Cr20 alloy datasets: Monte Carlo chains (resumable), snapshot selection, compact storage.

A dataset file (``.npz``) stores occupations, one ``uint8`` species index per reference site, with the reference
cell and site coordinates needed to rebuild the structures, and per structure its chain, pass, energy and
Warren-Cowley parameters of shells 1-2.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

from ase_lcom.data.dismai.alloy_monte_carlo import ChainState, SwapMonteCarlo
from ase_lcom.data.dismai.cluster_expansion import ClusterExpansion, NeighbourTable, reference_sites
from ase_lcom.data.dismai.sro import pair_labels, warren_cowley
from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.data.records import DataError
from ase_lcom.store import check_unchanged


@dataclass(frozen=True)
class AlloyProtocol:
    """Monte Carlo and selection settings of one alloy dataset (defaults: the paper's protocol).

    Attributes
    ----------
    temperature
        Kelvin.
    n_chains
        Independent chains, each started from its own random solid solution.
    n_passes
        Passes per chain (a pass is one attempted swap per site).
    snapshot_every
        Passes between snapshots.
    burn_in_passes
        Passes at the start of each chain whose snapshots are not used (equilibration from the random start).
    anneal_from
        During burn-in the temperature falls linearly from this value (K) to ``temperature``, in one stage per
        snapshot interval, so that chains settle into the equilibrium order instead of the first ordered
        domains they meet; no annealing when it is not above ``temperature``.
    n_structures
        Structures in the dataset.
    band
        Narrow sets keep snapshots whose shell 1-2 Warren-Cowley parameters all lie within ``band`` of the
        mean over all used snapshots of that temperature.
    """

    temperature: float
    n_chains: int = 10
    n_passes: int = 50_000
    snapshot_every: int = 10
    burn_in_passes: int = 5_000
    n_structures: int = 1500
    band: float = 0.1
    anneal_from: float = 1500.0

    def __post_init__(self) -> None:
        if self.n_passes % self.snapshot_every or self.burn_in_passes >= self.n_passes:
            raise DataError(f"n_passes ({self.n_passes}) must be a multiple of snapshot_every "
                            f"({self.snapshot_every}) and exceed burn_in_passes ({self.burn_in_passes})")

    def chain_settings(self) -> dict:
        """The settings a chain checkpoint depends on."""
        return {"temperature": float(self.temperature), "n_passes": self.n_passes,
                "snapshot_every": self.snapshot_every, "burn_in_passes": self.burn_in_passes,
                "anneal_from": float(max(self.anneal_from, self.temperature))}

    def burn_in_temperatures(self) -> np.ndarray:
        """Temperature (K) of each snapshot interval of the burn-in."""
        n = self.burn_in_passes // self.snapshot_every
        start = max(self.anneal_from, self.temperature)
        return start + (self.temperature - start) * np.arange(1, n + 1) / max(n, 1)


@dataclass
class AlloyOccupations:
    """An alloy dataset as arrays: occupations of reference sites and their metadata."""

    occupations: np.ndarray
    species: tuple[str, ...]
    cell: np.ndarray
    frac_sites: np.ndarray
    chain: np.ndarray
    passes: np.ndarray
    energy_per_atom: np.ndarray
    sro: np.ndarray
    sro_pairs: list[str]
    meta: dict

    @classmethod
    def read(cls, path: str | Path) -> AlloyOccupations:
        """Read a dataset file written by :meth:`write`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as f:
                if str(f["kind"]) != "alloy-occupations":
                    raise DataError(f"{path} is not an alloy occupation file (kind {f['kind']})")
                return cls(f["occupations"], tuple(str(s) for s in f["species"]), f["cell"], f["frac_sites"],
                           f["chain"], f["passes"], f["energy_per_atom"], f["sro"],
                           [str(s) for s in f["sro_pairs"]], json.loads(str(f["meta"])))
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"cannot read alloy dataset {path}: {exc}") from exc

    def write(self, path: Path) -> None:
        """Write a compressed ``.npz`` (atomically)."""
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez_compressed(tmp, kind="alloy-occupations", occupations=self.occupations.astype(np.uint8),
                            species=np.array(self.species), cell=self.cell, frac_sites=self.frac_sites,
                            chain=self.chain.astype(np.int16), passes=self.passes.astype(np.int32),
                            energy_per_atom=self.energy_per_atom.astype(np.float64),
                            sro=self.sro.astype(np.float32), sro_pairs=np.array(self.sro_pairs),
                            meta=json.dumps(self.meta))
        os.replace(tmp, path)

    def __len__(self) -> int:
        return len(self.occupations)

    def structures(self) -> list[Structure]:
        """The structures: each reference site carries its species, sites in reference order."""
        lattice = Lattice(self.cell)
        symbols = np.array(self.species)
        return [Structure(lattice, list(symbols[occ]), self.frac_sites) for occ in self.occupations]

    def to_dataset(self, name: str = "") -> FixedLatticeDataset:
        """The set as a :class:`FixedLatticeDataset`, built directly from the arrays.

        Gives the same dataset as ``FixedLatticeDataset.from_structures(self.structures())`` (sites grouped by
        species in the first structure's order of appearance) without comparing structure objects: the
        compositions are checked on the occupation arrays and all structures share the reference cell.
        """
        counts = np.stack([np.bincount(o, minlength=len(self.species)) for o in self.occupations])
        if np.any(counts != counts[0]):
            bad = int(np.nonzero(np.any(counts != counts[0], axis=1))[0][0])
            raise DataError(f"dataset {name or '(unnamed)'}: structure {bad} has another composition than "
                            "structure 0 (one composition per dataset)")
        first = self.occupations[0]
        order = [int(k) for k in dict.fromkeys(first.tolist())]
        rank = np.empty(len(self.species), dtype=int)
        rank[order] = np.arange(len(order))
        lattice = Lattice(self.cell)
        symbols = np.array(self.species)
        structures = []
        for occ in self.occupations:
            sites = np.argsort(rank[occ], kind="stable")
            structures.append(Structure(lattice, list(symbols[occ[sites]]), self.frac_sites[sites] % 1.0))
        return FixedLatticeDataset(structures, lattice, [self.species[k] for k in order], name)


def _chain_path(work_dir: Path, index: int) -> Path:
    return work_dir / f"chain-{index:02d}.npz"


def run_chains(protocol: AlloyProtocol, work_dir: Path, seed: int = 0, progress: bool = True,
               expansion: ClusterExpansion | None = None) -> list[Path]:
    """Run (or resume) the Monte Carlo chains of ``protocol``; one checkpoint file per finished chain.

    Chain ``c`` draws its random numbers from ``SeedSequence([seed, temperature, c])``, so a resumed run gives the
    same chains as an uninterrupted one.

    Raises
    ------
    DataError
        A checkpoint in ``work_dir`` was made with other settings.
    """
    from tqdm.auto import tqdm

    expansion = expansion or ClusterExpansion.read()
    work_dir.mkdir(parents=True, exist_ok=True)
    settings = {**protocol.chain_settings(), "seed": seed}
    paths = [_chain_path(work_dir, c) for c in range(protocol.n_chains)]
    todo = []
    for c, path in enumerate(paths):
        if path.is_file():
            with np.load(path) as f:
                stored = json.loads(str(f["settings"]))
            check_unchanged("chain setting", stored, settings, path, error=DataError,
                            fix=f"remove {work_dir} to start over")
        else:
            todo.append(c)
    if not todo:
        return paths
    cell, frac = reference_sites()
    table = NeighbourTable.build(cell, frac, expansion)
    mc = SwapMonteCarlo(expansion, table, protocol.temperature)
    n_snap = protocol.n_passes // protocol.snapshot_every
    bar = tqdm(total=protocol.n_chains * protocol.n_passes, initial=(protocol.n_chains - len(todo)) * protocol.n_passes,
               desc=f"MC {protocol.temperature:g} K", unit="pass", disable=not progress)
    for c in todo:
        start = time.perf_counter()
        rng = np.random.default_rng(np.random.SeedSequence([seed, int(round(protocol.temperature)), c]))
        state: ChainState = mc.random_state(expansion.composition, rng)
        stages = protocol.burn_in_temperatures()
        burn = [mc.run(state, 1, protocol.snapshot_every, rng, temperature=t) for t in stages]
        for k in range(0, len(stages), 100):
            bar.update(min(100, len(stages) - k) * protocol.snapshot_every)
        occ, energies, acceptance = mc.run(state, n_snap - len(stages), protocol.snapshot_every, rng,
                                           on_block=bar.update)
        if burn:
            occ = np.concatenate([*(b[0] for b in burn), occ])
            energies = np.concatenate([*(b[1] for b in burn), energies])
        tmp = paths[c].with_name(paths[c].stem + ".tmp.npz")
        np.savez_compressed(tmp, occupations=occ, energies=energies, acceptance=acceptance,
                            seconds=time.perf_counter() - start, settings=json.dumps(settings))
        os.replace(tmp, paths[c])
    bar.close()
    return paths


def _spread(indices: np.ndarray, k: int) -> np.ndarray:
    """``k`` entries of ``indices`` evenly spaced along it."""
    return indices[np.linspace(0, len(indices) - 1, k).round().astype(int)]


def select_sets(protocol: AlloyProtocol, chain_paths: list[Path], expansion: ClusterExpansion | None = None,
                required: tuple[str, ...] = ("wide", "narrow")) -> dict[str, AlloyOccupations]:
    """The wide and narrow sets of one temperature from its finished chains.

    Wide: ``n_structures / n_chains`` snapshots per chain, evenly spaced over the snapshots after burn-in.
    Narrow: of the snapshots after burn-in whose 12 shell 1-2 Warren-Cowley parameters all lie within
    ``band`` of their mean over those snapshots, ``n_structures`` evenly spaced along the chains in order.

    A narrow set that cannot be filled is left out of the result, or raises if ``"narrow"`` is ``required``.

    Raises
    ------
    DataError
        Fewer snapshots than ``n_structures`` after burn-in, or (narrow required) than that many within the band.
    """
    expansion = expansion or ClusterExpansion.read()
    cell, frac = reference_sites()
    table = NeighbourTable.build(cell, frac, expansion)
    n_species = len(expansion.species)
    first = protocol.burn_in_passes // protocol.snapshot_every        # snapshot k is taken after (k+1)*every passes
    occs, chains, passes, energies, acceptance, seconds = [], [], [], [], [], 0.0
    for c, path in enumerate(chain_paths):
        with np.load(path) as f:
            occs.append(f["occupations"][first:])
            energies.append(f["energies"][first:] / table.num_sites)
            seconds += float(f["seconds"])
            acceptance.append(float(f["acceptance"]))
        n = len(occs[-1])
        chains.append(np.full(n, c))
        passes.append((np.arange(first, first + n) + 1) * protocol.snapshot_every)
    occ, chain, passes = np.concatenate(occs), np.concatenate(chains), np.concatenate(passes)
    energy = np.concatenate(energies)
    sro = np.concatenate([warren_cowley(table, occ[s:s + 5000], n_species) for s in range(0, len(occ), 5000)])
    mean = sro.mean(axis=0)
    inside = np.all(np.abs(sro - mean) <= protocol.band, axis=(1, 2))
    per_chain = protocol.n_structures // protocol.n_chains
    if len(occ) < protocol.n_structures or per_chain * protocol.n_chains != protocol.n_structures:
        raise DataError(f"{protocol.n_structures} structures cannot be spread over {protocol.n_chains} chains of "
                        f"{len(occ) // max(1, protocol.n_chains)} snapshots after burn-in")
    wide = np.concatenate([_spread(np.nonzero(chain == c)[0], per_chain) for c in range(protocol.n_chains)])
    selected = {"wide": wide}
    passing = np.nonzero(inside)[0]
    if len(passing) >= protocol.n_structures:
        selected["narrow"] = _spread(passing, protocol.n_structures)
    elif "narrow" in required:
        raise DataError(f"only {len(passing)} snapshots at {protocol.temperature:g} K lie within +-{protocol.band} "
                        f"of the mean SRO, {protocol.n_structures} are needed: run longer or more chains")
    labels = pair_labels(expansion.species)
    common = {"protocol": asdict(protocol), "mc_seconds": seconds, "pool_size": int(len(occ)),
              "pool_within_band": int(inside.sum()), "pool_sro_mean": mean.tolist(),
              "pool_sro_std": sro.std(axis=0).tolist(),
              "acceptance": acceptance}
    out = {}
    for kind, idx in selected.items():
        out[kind] = AlloyOccupations(occ[idx].astype(np.uint8), expansion.species, cell, frac, chain[idx],
                                     passes[idx], energy[idx], sro[idx], labels, {**common, "kind": kind})
    return out
