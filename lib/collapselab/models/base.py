"""The batch model interface shared by every model in the book (chapter 1, {prf:ref}`def-01-loop`).

A model works on *many replicate chains at once*.  Parameters, data and statistics all carry a
leading replicate axis ``R``.  The recursive loop (:func:`collapselab.loop.run_loop`) needs:

``stats(data)``                sufficient statistics (or the data themselves) of a batch
``sample_stats(params, n, rng, exact)``
                               statistics of n fresh samples from each chain's model; with
                               ``exact=True`` drawn directly from their sampling distribution
                               (cost independent of n) where the model has such a fast path
``combine(a, b)``              statistics of the union of two training sets
``fit(stats)``                 fitted parameters
``sample(params, n, rng)``     n samples per chain, shape ``(R, n, ...)``
``broadcast(params, R)``       one parameter set repeated over R chains
``record(params)``             a dict of arrays (R, ...) kept for each generation

A model knows nothing of *where* its data come from: the loop's real source and synthetic
sampler (:mod:`collapselab.sources`) call ``sample``/``sample_stats`` with the parameters they
choose (the truth, a drifting or biased source, a distorted fitted model).  A model may name its
default synthetic sampler in an optional attribute ``synthetic`` (for example
:class:`~collapselab.models.tempered.TemperedGaussian1D`); its own ``sample``/``sample_stats``
are then still the undistorted ones, used for the truth.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class BatchModel(Protocol):
    def stats(self, data: np.ndarray) -> Any: ...

    def sample_stats(self, params: Any, n: int, rng: np.random.Generator,
                     exact: bool = False) -> Any: ...

    def combine(self, a: Any, b: Any) -> Any: ...

    def fit(self, stats: Any) -> Any: ...

    def sample(self, params: Any, n: int, rng: np.random.Generator) -> np.ndarray: ...

    def broadcast(self, params: Any, replicates: int) -> Any: ...

    def record(self, params: Any) -> dict[str, np.ndarray]: ...


def combine_optional(model, a, b):
    """Combine statistics where either side may be None (an empty batch)."""
    if not callable(getattr(model, "combine", None)):
        raise ValueError(f"model must be a batch model with a combine() method, got {type(model).__name__}")
    if a is None:
        return b
    if b is None:
        return a
    return model.combine(a, b)
