"""Real data sets that installed packages ship, and a real-data sampler for the loop (chapter 14).

Nothing here downloads: :func:`load_digits` reads the 1797 handwritten digits (8 x 8 images,
pixel values 0..16) that scikit-learn bundles with its package (a copy of the test part of the
UCI "Optical Recognition of Handwritten Digits" data of Alpaydin and Kaynak).  The digits are
split once, by a seeded stratified draw, into a *training pool* (the real data the loop may use)
and a *held-out* set that only metrics and monitors ever see.

:class:`Bootstrap` turns a data set into a real source for :func:`collapselab.run_loop` (its
``real`` argument, :mod:`collapselab.sources`): every generation's real batch resamples m rows
with replacement, independently for every chain (vectorised), and the loop gets the model's
statistics of them.  Bootstrap resampling
draws i.i.d. points from the empirical distribution of the pool, the "real distribution" of the
capstone.  Checked in ``tests/test_capstone.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_rng, check_array, check_bool, check_int, check_real, check_size
from .sources import BoundSource, RealSource, _check_ctx


@dataclass(frozen=True)
class ImageDataset:
    """A labelled image data set split into a training pool and a held-out set.

    ``train_x`` (N, d) and ``test_x`` (M, d) hold flattened images of shape ``image_shape``;
    ``train_y`` and ``test_y`` their integer labels; pixel values lie in ``value_range``."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    image_shape: tuple[int, int]
    value_range: tuple[float, float]
    classes: int

    @property
    def dim(self) -> int:
        return self.train_x.shape[1]

    def images(self, x) -> np.ndarray:
        """Points (..., d) as displayable images (..., h, w): clipped to the pixel range and
        rounded to the data's integer levels (model samples are real-valued and unbounded)."""
        return to_images(x, self.image_shape, self.value_range)


def _pair(name: str, value) -> tuple:
    """The two entries of a pair (a tuple, list or array of length 2)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{name} must be a pair of two numbers, got {value!r}"[:200])
    return tuple(value)


def to_images(x, shape, value_range=(0.0, 16.0), quantise: bool = True) -> np.ndarray:
    """Clip points (..., h*w) to ``value_range``, round them to integers if ``quantise``, and
    reshape them to images (..., h, w).  For display only."""
    x = check_array("x", x)
    quantise = check_bool("quantise", quantise)
    h, w = _pair("shape", shape)
    h, w = (check_int("shape", s, minimum=1) for s in (h, w))
    if x.ndim < 1 or x.shape[-1] != h * w:
        raise ValueError(f"x must end with an axis of {h * w} pixels, got shape {x.shape}")
    lo, hi = (check_real("value_range", v) for v in _pair("value_range", value_range))
    if not lo < hi:
        raise ValueError(f"value_range must be increasing, got {value_range}")
    out = np.clip(x, lo, hi)
    if quantise:
        out = np.round(out)
    return out.reshape(x.shape[:-1] + (h, w))


def stratified_split(labels, holdout: float, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) holding out round(holdout * count) points of every class, chosen
    uniformly at random (seeded).  Both index arrays are sorted."""
    y = np.asarray(labels)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError("labels must be a 1-D integer array")
    holdout = check_real("holdout", holdout, minimum=0.0, maximum=1.0)
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must lie strictly between 0 and 1, got {holdout}")
    rng = as_rng(seed)
    order = rng.permutation(y.size)
    ys = y[order]
    # rank of every point within its class, in the random order
    by_class = np.argsort(ys, kind="stable")
    counts = np.bincount(ys)
    starts = np.cumsum(counts) - counts
    rank = np.empty(y.size, dtype=np.int64)
    rank[by_class] = np.arange(y.size) - np.repeat(starts, counts)
    test = rank < np.round(holdout * counts)[ys]
    return np.sort(order[~test]), np.sort(order[test])


def load_digits(holdout: float = 0.25, seed: int = 0) -> ImageDataset:
    """scikit-learn's bundled handwritten digits (no download): 1797 images of 8 x 8 pixels with
    values 0..16 and labels 0..9, split into a training pool and a held-out share ``holdout`` of
    every class (seeded).  Chapter 14."""
    from sklearn.datasets import load_digits as _sk_load_digits

    seed = check_int("seed", seed, minimum=0)
    x, y = _sk_load_digits(return_X_y=True)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=np.int64)
    tr, te = stratified_split(y, holdout, seed)
    return ImageDataset("digits", x[tr], y[tr], x[te], y[te], (8, 8), (0.0, 16.0), 10)


def bootstrap_indices(size: int, replicates: int, m: int, rng) -> np.ndarray:
    """Row indices (replicates, m), drawn uniformly with replacement from range(size)."""
    size = check_int("size", size, minimum=1)
    replicates = check_int("replicates", replicates, minimum=1)
    m = check_int("m", m, minimum=1)
    check_size(f"replicates={replicates} x m={m} indices", float(replicates) * m)
    return as_rng(rng).integers(0, size, size=(replicates, m))


class Bootstrap(RealSource):
    """A real source for :func:`collapselab.run_loop` (its ``real`` argument) drawn from a real
    data set: every real batch of m points resamples m rows of ``x`` (N, d) with replacement,
    independently for each chain, and the loop gets ``model.stats`` of them (with their
    ``labels`` (N,) if given: ``model.stats(x, labels)``).  Chapter 14.

    Without labels the source also serves point-based schedules
    (:func:`~collapselab.schedules.accumulate_subsample`); with labels it serves statistics only.
    ``exact`` does not apply (the rows are resampled)."""

    exact_stats = False

    def __init__(self, x, labels=None):
        x = check_array("x", x, ndim=2)
        if x.shape[0] < 1:
            raise ValueError("x must hold at least one row")
        lab = None
        if labels is not None:
            lab = np.asarray(labels)
            if lab.shape != (x.shape[0],):
                raise ValueError(f"labels must have shape ({x.shape[0]},), got {lab.shape}")
        self.x, self.labels = x, lab

    def __repr__(self):
        return f"Bootstrap({self.x.shape[0]} rows{'' if self.labels is None else ', labelled'})"

    def bind(self, ctx, rng):
        _check_ctx(ctx, rng)
        model, R, x, lab = ctx.model, ctx.replicates, self.x, self.labels

        def stats(t, m, r):
            idx = bootstrap_indices(x.shape[0], R, m, r)
            if lab is None:
                return model.stats(x[idx])
            return model.stats(x[idx], lab[idx])

        points = None
        if lab is None:
            def points(t, m, r):
                return x[bootstrap_indices(x.shape[0], R, m, r)]

        return BoundSource(stats, points, exact_stats=False)
