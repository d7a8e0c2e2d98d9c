"""Where each generation's data come from: real-data sources and synthetic samplers (chapter 1,
{prf:ref}`def-01-loop`).

:func:`collapselab.run_loop` builds generation t's batch from two roles, both parameters of the
one loop:

**A real source** says where generation t's *real* data come from.  It is either

* a plain callable ``real(t, m, rng) -> stats``: the model's statistics of m real points per
  chain for generation t (shape R on the leading axis), or
* a :class:`RealSource` object, bound once per run (:meth:`RealSource.bind`) to a
  :class:`LoopContext` and the run's generator; the bound source draws statistics
  (``stats(t, m, rng)``) and, for schedules that need the points themselves
  (:func:`~collapselab.schedules.accumulate_subsample`), points (``points(t, m, rng)``).

Library sources: :class:`Truth` (the default: the truth, through the model's own sampler),
:class:`FixedSample` (one real sample drawn once and reused, nested: what a schedule with
``fresh_real=False`` uses), :class:`DriftingTruth` (generation t's real data come from a
distribution ``params_at(t)``: a drifting truth, or a biased source whose bias decays or not),
and :class:`collapselab.datasets.Resampled` (a bundled real data set, resampled).

**A synthetic sampler** says how a *fitted* model generates.  It is either

* a plain callable ``synthetic(params, m, rng) -> stats``, or
* a :class:`Sampler` object with ``draw_points(model, params, n, rng) -> points`` and
  ``draw_stats(model, params, n, rng, exact) -> stats``.

Library samplers: :class:`OwnSampler` (the default: the model's own ``sample``/``sample_stats``),
:class:`Tempered` (1-D Gaussian, chapter 8), :class:`CategoricalBias` (temperature / top-k /
top-p, chapter 11) and :class:`collapselab.models.curated.Curated` (a verifier filters the
candidates, chapter 13).  A model may name its own default sampler in an attribute
``synthetic`` (for example :class:`~collapselab.models.tempered.TemperedGaussian1D`); an explicit
``synthetic=`` argument of ``run_loop`` overrides it.

Model 0 is the truth.  Its samples (the synthetic share of generation 1) are real data: the loop
draws them with the *model's own* sampler from the truth, never through the synthetic sampler,
unless the sampler sets ``applies_to_model0 = True`` (for example ``Curated(...,
curate_model0=True)``).

Exact paths.  ``run_loop(..., exact=True)`` asks every role to draw sufficient statistics directly
(cost independent of m) where it can.  Each library source and sampler says whether it can in
its attribute ``exact_stats``; those that cannot (curation: the verifier must see the points)
draw points and summarise them, whatever ``exact`` says.

Checked in ``tests/test_sources.py`` and by every theorem test that runs the loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ._validate import as_rng, check_array, check_bool, check_int


@dataclass(frozen=True)
class LoopContext:
    """What a source or sampler may know about the run it serves.

    ``truth`` is model 0's parameters broadcast to ``replicates`` chains; ``n`` the batch size;
    ``schedule`` the :class:`~collapselab.schedules.Schedule`; ``exact`` the run's request for
    exact sufficient-statistic draws."""

    model: Any
    truth: Any
    replicates: int
    n: int
    generations: int
    schedule: Any
    exact: bool


# ------------------------------------------------------------------------------------------
# real sources
# ------------------------------------------------------------------------------------------

class BoundSource:
    """A real source bound to one run: ``stats(t, m, rng)`` and, if it can, ``points(t, m, rng)``
    (points shaped (R, m, ...) as ``model.sample`` returns them)."""

    def __init__(self, stats: Callable, points: Callable | None = None, exact_stats: bool = False):
        self.stats = stats
        self.points = points
        self.exact_stats = check_bool("exact_stats", exact_stats)


class RealSource:
    """Base class of the library's real sources.  Subclasses implement :meth:`bind`."""

    #: whether the bound source honours ``exact=True`` (draws statistics directly)
    exact_stats: bool = True

    def bind(self, ctx: LoopContext, rng: np.random.Generator) -> BoundSource:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Truth(RealSource):
    """The default real source: fresh draws from the truth (model 0) with the model's own
    sampler, ``model.sample_stats(truth, m, rng, exact)`` (exact path where the model has one)."""

    def bind(self, ctx, rng):
        _check_ctx(ctx, rng)
        model, truth, exact = ctx.model, ctx.truth, ctx.exact

        def stats(t, m, r):
            return model.sample_stats(truth, m, r, exact=exact)

        def points(t, m, r):
            return model.sample(truth, m, r)

        return BoundSource(stats, points, exact_stats=True)


class DriftingTruth(RealSource):
    """Generation t's real data come from ``params_at(t)`` (parameters of the model's family for
    one chain or for R chains), drawn with the model's own sampler (exact path kept).

    A drifting truth, or a *biased* real source: e.g. for the 1-D Gaussian
    ``DriftingTruth(lambda t: G.params(b * t**-q, 1.0))`` has a bias b t^(-q) that decays, and a
    constant ``params_at`` a bias that never does.  Metrics still compare each fit with model 0
    (the ``truth`` argument of ``run_loop``)."""

    def __init__(self, params_at: Callable[[int], Any]):
        if not callable(params_at):
            raise ValueError(f"params_at must be callable params_at(t) -> parameters, "
                             f"got {params_at!r}")
        self.params_at = params_at

    def __repr__(self):
        return f"DriftingTruth({getattr(self.params_at, '__name__', self.params_at)!r})"

    def bind(self, ctx, rng):
        _check_ctx(ctx, rng)
        model, exact, R = ctx.model, ctx.exact, ctx.replicates
        cache: dict[int, Any] = {}

        def at(t):
            if t not in cache:
                cache.clear()
                cache[t] = model.broadcast(self.params_at(t), R)
            return cache[t]

        def stats(t, m, r):
            return model.sample_stats(at(t), m, r, exact=exact)

        def points(t, m, r):
            return model.sample(at(t), m, r)

        return BoundSource(stats, points, exact_stats=True)


class FixedSample(RealSource):
    """One real sample, drawn once per run from ``source`` (default :class:`Truth`, at generation
    1) and reused every generation.  Nested: a generation asking for m real points gets the first
    m of the sample, so a smaller real batch is a subset of a larger one (Bertrand et al. 2024's
    fixed real data set).  A schedule with ``fresh_real=False`` wraps the run's real source in
    this class.  The sample is drawn at the start of the run, in increasing sizes, for every
    real-batch size the schedule asks for."""

    def __init__(self, source=None):
        if isinstance(source, FixedSample):
            raise ValueError("source is already a FixedSample")
        if source is not None and not (isinstance(source, RealSource) or callable(source)):
            raise ValueError(f"source must be a RealSource or a callable real(t, m, rng), "
                             f"got {source!r}")
        self.source = source

    def __repr__(self):
        return f"FixedSample({self.source!r})"

    @property
    def exact_stats(self):
        return getattr(self.source, "exact_stats", True) if self.source is not None else True

    def bind(self, ctx, rng):
        _check_ctx(ctx, rng)
        inner = bind_real(Truth() if self.source is None else self.source, ctx, rng)
        sched, n, model = ctx.schedule, ctx.n, ctx.model
        sizes = sorted({sched.batch_sizes(t, n)[0] for t in range(1, ctx.generations + 1)} - {0})

        def unknown(m):
            return ValueError(f"the fixed real sample was drawn for sizes {sizes}, not {m}")

        if getattr(sched, "subsample", False):
            # point-based schedules need the points themselves: draw them once, nested
            if inner.points is None:
                raise ValueError("a point-based schedule (subsample) needs a real source that "
                                 "draws points, not a plain statistics callable")
            chunks, have = [], 0
            for m in sizes:
                chunks.append(inner.points(1, m - have, rng))
                have = m
            pool = concat_points(chunks) if chunks else None

            def points(t, m, r):
                if m not in sizes:
                    raise unknown(m)
                return _take_points(pool, slice(0, m))

            def stats(t, m, r):
                return model.stats(points(t, m, r))

            return BoundSource(stats, points, exact_stats=False)

        sets: dict[int, Any] = {}
        acc, have = None, 0
        for m in sizes:
            acc = _combine(model, acc, inner.stats(1, m - have, rng))
            sets[m], have = acc, m

        def stats(t, m, r):
            if m not in sets:
                raise unknown(m)
            return sets[m]

        return BoundSource(stats, None, exact_stats=inner.exact_stats)


def _method(model, name: str):
    """The bound method ``model.<name>``, or a ValueError naming ``model`` (samplers and sources
    call only what they need, so a model need not implement the whole BatchModel interface)."""
    f = getattr(model, name, None)
    if not callable(f):
        raise ValueError(f"model must be a batch model with a {name}() method, got {type(model).__name__}")
    return f


def _check_ctx(ctx, rng=None) -> None:
    """The run a source or sampler is bound to, and (for real sources) the run's generator."""
    if not isinstance(ctx, LoopContext):
        raise ValueError(f"ctx must be a LoopContext (the run being bound), got {type(ctx).__name__}")
    if rng is not None:
        as_rng(rng, "rng")


def bind_real(real, ctx: LoopContext, rng) -> BoundSource:
    """A :class:`BoundSource` for ``real``: a :class:`RealSource` (bound) or a plain callable
    ``real(t, m, rng) -> stats`` (statistics only)."""
    if isinstance(real, RealSource):
        _check_ctx(ctx, rng)
        return real.bind(ctx, rng)
    if callable(real):
        _check_ctx(ctx, rng)
        return BoundSource(real, None, exact_stats=False)
    raise ValueError(f"real must be a RealSource or a callable real(t, m, rng) -> stats, "
                     f"got {real!r}")


# ------------------------------------------------------------------------------------------
# synthetic samplers
# ------------------------------------------------------------------------------------------

class Sampler:
    """Base class of the library's synthetic samplers: how a fitted model generates.

    Subclasses implement :meth:`draw_points` and, if they have a fast path, :meth:`draw_stats`
    (set ``exact_stats = True`` then).  Both receive the loop's model."""

    #: whether ``sample_stats(..., exact=True)`` draws statistics directly
    exact_stats: bool = False
    #: whether model 0's samples (generation 1's synthetic share) also go through this sampler
    applies_to_model0: bool = False

    def draw_points(self, model, params, n: int, rng) -> np.ndarray:  # pragma: no cover
        """n generated points per chain, shaped as ``model.sample`` returns them."""
        raise NotImplementedError

    def draw_stats(self, model, params, n: int, rng, exact: bool = False):
        """Statistics of n generated points per chain (default: ``model.stats`` of
        :meth:`draw_points`)."""
        return _method(model, "stats")(self.draw_points(model, params, n, rng))

    def __repr__(self):
        return f"{type(self).__name__}()"


class OwnSampler(Sampler):
    """The default sampler: the model's own ``sample`` and ``sample_stats`` (exact path kept)."""

    exact_stats = True

    def draw_points(self, model, params, n, rng):
        return _method(model, "sample")(params, n, rng)

    def draw_stats(self, model, params, n, rng, exact=False):
        return _method(model, "sample_stats")(params, n, rng, exact=exact)


class ParamSampler(Sampler):
    """A sampler that draws from a *distorted* distribution of the model's own family,
    ``sampler_params(params)``, with the model's own samplers (so the exact path is kept).
    Subclasses implement :meth:`sampler_params`."""

    exact_stats = True

    def sampler_params(self, params):  # pragma: no cover
        raise NotImplementedError

    def draw_points(self, model, params, n, rng):
        return _method(model, "sample")(self.sampler_params(params), n, rng)

    def draw_stats(self, model, params, n, rng, exact=False):
        return _method(model, "sample_stats")(self.sampler_params(params), n, rng, exact=exact)


class BoundSampler:
    """A synthetic sampler bound to one run: ``stats(params, m, rng)`` and, if it can,
    ``points(params, m, rng)``."""

    def __init__(self, stats: Callable, points: Callable | None = None,
                 applies_to_model0: bool = False):
        self.stats = stats
        self.points = points
        self.applies_to_model0 = check_bool("applies_to_model0", applies_to_model0)


def default_sampler(model) -> Sampler:
    """The sampler a model generates with: its attribute ``synthetic`` if it names one, else
    :class:`OwnSampler`."""
    s = getattr(model, "synthetic", None)
    return OwnSampler() if s is None else s


def bind_synthetic(synthetic, ctx: LoopContext) -> BoundSampler:
    """A :class:`BoundSampler` for ``synthetic``: a :class:`Sampler`, a plain callable
    ``synthetic(params, m, rng) -> stats`` or None (the model's default, :func:`default_sampler`)."""
    _check_ctx(ctx)
    if synthetic is None:
        synthetic = default_sampler(ctx.model)
    model, exact = ctx.model, ctx.exact
    if isinstance(synthetic, Sampler):
        s = synthetic

        def stats(p, m, r):
            return s.draw_stats(model, p, m, r, exact=exact)

        def points(p, m, r):
            return s.draw_points(model, p, m, r)

        return BoundSampler(stats, points, bool(s.applies_to_model0))
    if callable(synthetic):
        return BoundSampler(synthetic, None, bool(getattr(synthetic, "applies_to_model0", False)))
    raise ValueError(f"synthetic must be a Sampler or a callable synthetic(params, m, rng) -> "
                     f"stats, got {synthetic!r}")


def sample_generation(model, params, n: int, rng, *, generation: int, synthetic=None) -> np.ndarray:
    """n points per chain from generation ``generation``'s model, as the loop would draw them:
    the model's own sampler for generation 0 (the truth), ``synthetic`` (default: the model's
    default sampler) for every fitted generation.  Used by :mod:`collapselab.monitoring`."""
    generation = check_int("generation", generation, minimum=0)
    _method(model, "sample")
    if generation == 0:
        return model.sample(params, n, rng)
    s = default_sampler(model) if synthetic is None else synthetic
    if not isinstance(s, Sampler):
        raise ValueError(f"synthetic must be a Sampler to draw points, got {s!r}")
    return s.draw_points(model, params, n, rng)


# ------------------------------------------------------------------------------------------
# points: the pooled data of point-based schedules
# ------------------------------------------------------------------------------------------

def concat_points(chunks):
    """Concatenate point batches along the sample axis (axis 1); tuples (e.g. regression's
    (X, y)) are concatenated field by field."""
    if not isinstance(chunks, (list, tuple)):
        raise ValueError(f"chunks must be a list of point batches, got {type(chunks).__name__}")
    chunks = [c for c in chunks if c is not None]
    if not chunks:
        raise ValueError("chunks must hold at least one batch of points")
    for c in chunks:
        points_size(c)
    if isinstance(chunks[0], tuple):
        return tuple(np.concatenate(parts, axis=1) for parts in zip(*chunks))
    return np.concatenate(chunks, axis=1)


def points_size(x) -> int:
    """The number of points per chain of ``x``: an array (R, m, ...) or a tuple of them."""
    first = x[0] if isinstance(x, tuple) and x else x
    if not isinstance(first, np.ndarray) or first.ndim < 2:
        raise ValueError(f"x must be points: an array (R, m, ...) or a tuple of them, "
                         f"got {type(first).__name__}")
    return first.shape[1]


def take_points(x, idx):
    """Points ``x[:, idx]`` (a slice) or, for an index array (R, k), each chain's own rows."""
    fields = x if isinstance(x, tuple) else (x,)
    for i, f in enumerate(fields):
        name = f"x[{i}]" if isinstance(x, tuple) else "x"
        if not isinstance(f, np.ndarray):
            raise ValueError(f"{name} must be points: an array (R, m, ...), got {type(f).__name__}")
        if f.ndim < 2 or f.shape[0] < 1:
            raise ValueError(f"{name} must be points shaped (R, m, ...), got shape {f.shape}")
        if f.dtype.kind in "fc":
            check_array(name, f)
    R, N = fields[0].shape[:2]
    if not isinstance(idx, slice):
        if isinstance(idx, (str, bytes)) or not isinstance(idx, (np.ndarray, list, tuple)):
            raise ValueError(f"idx must be a slice or an integer array (R, k), got {type(idx).__name__}")
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu" or idx.ndim != 2 or idx.shape[0] != R:
            raise ValueError(f"idx must be an integer array ({R}, k), got {idx.dtype} of shape {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= N):
            raise ValueError(f"idx must index the {N} points of each chain, got values in "
                             f"[{idx.min()}, {idx.max()}]")
    return _take_points(x, idx)


def _take_points(x, idx):
    """:func:`take_points` without the checks (the loop's subsample indices are valid)."""
    if isinstance(x, tuple):
        return tuple(_take_points(a, idx) for a in x)
    if isinstance(idx, slice):
        return x[:, idx]
    idx = idx.reshape(idx.shape + (1,) * (x.ndim - 2))
    return np.take_along_axis(x, idx, axis=1)


def _combine(model, a, b):
    if a is None:
        return b
    if b is None:
        return a
    return model.combine(a, b)


__all__ = ["LoopContext", "RealSource", "BoundSource", "Truth", "DriftingTruth", "FixedSample",
           "bind_real", "Sampler", "OwnSampler", "ParamSampler", "BoundSampler", "default_sampler",
           "bind_synthetic", "sample_generation", "concat_points", "take_points", "points_size"]
