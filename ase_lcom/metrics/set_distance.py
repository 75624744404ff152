"""Set-against-set distances of Dismai-Bench.

Every Dismai-Bench metric turns each structure into a feature vector, averages the vectors over the reference
(training) set and over the generated set, and reports the distance between the two averages:

* :func:`featurize_set` applies a per-structure feature function to a set, optionally through an executor;
* :func:`set_distance` gives the Euclidean (or cosine) distance between the set averages;
* :func:`bootstrap_interval` the 95% pivotal bootstrap interval, resampling the generated set only;
* :func:`summarize_models` the paper's "mean (min, max)" over independently trained models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
from scipy.spatial import distance as _distance

from ase_lcom.errors import MetricError
from ase_lcom.execution import Executor

Metric = Literal["euclidean", "cosine"]



def _indexed(func: Callable[..., np.ndarray], item: tuple[int, Any]) -> np.ndarray:
    return func(item[1])


def featurize_set(
    func: Callable[..., np.ndarray], structures: Iterable, executor: Executor | None = None
) -> np.ndarray:
    """Feature vectors of a set of structures, shape ``(n_structures, n_features)``, in input order.

    Parameters
    ----------
    func
        Maps one structure to a 1-D feature vector; module-level (or a ``functools.partial`` of one) when the
        executor runs tasks in other processes.
    structures
        The structures.
    executor
        Runs the tasks, e.g. :class:`~ase_lcom.execution.ProcessExecutor` for the CrystalNN-based metrics
        (default: one after the other in this process). The first task error is raised.
    """
    items = list(enumerate(structures))
    if not items:
        raise MetricError("cannot featurize an empty set of structures")
    if executor is None:
        rows = [func(s) for _, s in items]
    else:
        rows = [None] * len(items)
        for outcome in executor.map_unordered(partial(_indexed, func), items):
            rows[outcome.item[0]] = outcome.get()
    return np.stack([np.asarray(r, dtype=float) for r in rows])


def _as_features(features: np.ndarray | Sequence, name: str) -> np.ndarray:
    arr = np.asarray(features, dtype=float)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise MetricError(f"{name} must be a non-empty (n_structures, n_features) array, got shape {arr.shape}")
    return arr


def _distance_between(a: np.ndarray, b: np.ndarray, metric: Metric) -> float:
    if metric == "euclidean":
        return float(np.linalg.norm(a - b))
    if metric == "cosine":
        return float(_distance.cosine(a, b))
    raise MetricError(f"unknown distance {metric!r}; use 'euclidean' or 'cosine'")


def set_distance(reference: np.ndarray, generated: np.ndarray, metric: Metric = "euclidean") -> float:
    """Distance between the mean feature vector of ``reference`` and that of ``generated``.

    Both are ``(n_structures, n_features)`` arrays (e.g. from :func:`featurize_set`) with the same number of
    features.
    """
    ref, gen = _as_features(reference, "reference"), _as_features(generated, "generated")
    if ref.shape[1] != gen.shape[1]:
        raise MetricError(f"reference has {ref.shape[1]} features but generated has {gen.shape[1]}")
    return _distance_between(ref.mean(axis=0), gen.mean(axis=0), metric)


@dataclass(frozen=True)
class BootstrapResult:
    """A set distance with its pivotal bootstrap interval.

    ``lower`` and ``upper`` bound the interval (``lower`` can be negative for a distance near 0, as in the
    pivotal construction); ``lower_error = value - lower`` and ``upper_error = upper - value`` are the
    asymmetric error bars.
    """

    value: float
    lower: float
    upper: float

    @property
    def lower_error(self) -> float:
        """``value - lower``."""
        return self.value - self.lower

    @property
    def upper_error(self) -> float:
        """``upper - value``."""
        return self.upper - self.value


def bootstrap_interval(
    reference: np.ndarray,
    generated: np.ndarray,
    metric: Metric = "euclidean",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    sample_size: int | None = None,
    rng: np.random.Generator | int = 7,
) -> BootstrapResult:
    """Set distance with a pivotal bootstrap interval over the generated set.

    The reference average is kept fixed; the generated set is resampled with replacement ``n_resamples`` times
    (``sample_size`` structures each, default all), and the interval is ``[2d - q_hi, 2d - q_lo]`` with ``q``
    the bootstrap quantiles of the distance (Wasserman, *All of Statistics*, eq. 8.6). The default seed 7 is the
    one of the Dismai-Bench scripts.
    """
    ref, gen = _as_features(reference, "reference"), _as_features(generated, "generated")
    if not 0 < confidence < 1:
        raise MetricError(f"confidence must lie in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise MetricError(f"n_resamples must be at least 1, got {n_resamples}")
    value = set_distance(ref, gen, metric)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    size = gen.shape[0] if sample_size is None else sample_size
    ref_mean = ref.mean(axis=0)
    n_gen = gen.shape[0]
    picks = rng.integers(0, n_gen, size=(n_resamples, size))
    # how often each generated structure is drawn per resample: means by one matrix product
    counts = np.bincount((picks + n_gen * np.arange(n_resamples)[:, None]).ravel(), minlength=n_resamples * n_gen)
    means = counts.reshape(n_resamples, n_gen) @ gen / size
    if metric == "euclidean":
        boot = np.linalg.norm(means - ref_mean, axis=1)
    else:
        boot = np.array([_distance_between(ref_mean, m, metric) for m in means])
    alpha = 1 - confidence
    q_lo, q_hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(value=value, lower=2 * value - q_hi, upper=2 * value - q_lo)


@dataclass(frozen=True)
class ModelSummary:
    """Mean and range of a metric over independently trained models (the paper's "mean (min, max)")."""

    mean: float
    min: float
    max: float

    def __str__(self) -> str:
        return f"{self.mean:.3g} ({self.min:.3g}, {self.max:.3g})"


def summarize_models(values: Sequence[float]) -> ModelSummary:
    """Mean with (min, max) of one metric over several independently trained models."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise MetricError("summarize_models needs a non-empty sequence of per-model values")
    return ModelSummary(mean=float(arr.mean()), min=float(arr.min()), max=float(arr.max()))
