"""Curation: filter each generation's synthetic samples with a verifier (chapter 13,
{prf:ref}`def-13-curation`).

:class:`Curated` is a synthetic sampler for any batch model (see
:mod:`collapselab.models.base`): when the loop asks a fitted model for n *synthetic* samples,
it draws more candidates than it needs from the model, scores them with a verifier and keeps n
of them:

``rule="top"``        keep the n best-scoring of m = ceil(n / keep) candidates (one
                      ``argpartition`` along the sample axis);
``rule="threshold"``  keep candidates whose score is >= ``threshold``, each independently, until
                      n are kept (``keep`` is only the expected acceptance rate, used to size the
                      batches of candidates);
``rule="bernoulli"``  the score is an acceptance *probability* in [0, 1]; each candidate is kept
                      independently with that probability, until n are kept (a noisy verifier,
                      or rejection sampling toward a target, {prf:ref}`thm-13-rejection`).

A verifier (``score``) is a function ``score(x, params) -> (R, m)`` of the candidates ``x``
(shape (R, m, ...), as returned by ``model.sample``) and of the generating chains' parameters.
A verifier that holds one reference per chain should also accept a keyword ``chains``: the
indices of the chains being scored when only some of them are (later rounds of the accept
rules); without it those rounds sample every chain.
The factories below build the verifiers of the chapter for the 1-D Gaussian and the categorical
model.  All work is vectorised over chains; the accept rules loop only over rounds of candidate
batches, each round serving the chains still short of n points.

Curation is a synthetic sampler (:mod:`collapselab.sources`): ``run_loop(model, truth,
synthetic=Curated(model, score, ...), ...)``.  Real data are never curated: the loop draws them
from its real source, and model 0's samples (the truth's, i.e. generation 1's training data)
with the model's own sampler, unless ``Curated(..., curate_model0=True)``.  Candidates are drawn
point by point from ``model``'s default sampler (:func:`collapselab.sources.default_sampler`, so
a :class:`~collapselab.models.tempered.TemperedGaussian1D` proposes tempered candidates): the
verifier must see them, so a run's ``exact`` flag applies only to the uncurated draws.  Checked
in ``tests/test_curation.py``.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
from typing import Callable

import numpy as np

from .._validate import as_rng, check_array, check_bool, check_callable, check_int, check_real
from ..sources import Sampler, default_sampler
from .gaussian import Normal1DParams

RULES = ("top", "threshold", "bernoulli")
_LOG_2PI = math.log(2.0 * math.pi)


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------

def _n_chains(params) -> int | None:
    """The replicate count R of a parameter object (an array or a dataclass of arrays)."""
    if isinstance(params, np.ndarray):
        return params.shape[0] if params.ndim else None
    if dataclasses.is_dataclass(params):
        for f in dataclasses.fields(params):
            v = getattr(params, f.name)
            if isinstance(v, np.ndarray) and v.ndim:
                return v.shape[0]
    return None


def _take(params, idx, R):
    """The parameters of the chains ``idx`` (None if the type is not understood)."""
    if isinstance(params, np.ndarray):
        return params[idx]
    if dataclasses.is_dataclass(params):
        changes = {}
        for f in dataclasses.fields(params):
            v = getattr(params, f.name)
            if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == R:
                changes[f.name] = v[idx]
        return dataclasses.replace(params, **changes)
    return None


def _check_scores(s, shape, rule) -> np.ndarray:
    try:
        s = np.asarray(s, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"score must return numbers: {exc}") from None
    if s.shape != shape:
        raise ValueError(f"score must return an array of shape (R, m) = {shape}, got {s.shape}")
    if np.isnan(s).any():
        raise ValueError("score returned NaN values")
    if rule == "bernoulli" and (np.any(s < 0) or np.any(s > 1)):
        raise ValueError("score must return acceptance probabilities in [0, 1] for "
                         "rule='bernoulli'")
    return s


# ------------------------------------------------------------------------------------------
# the wrapper
# ------------------------------------------------------------------------------------------

class Curated(Sampler):
    """A synthetic sampler whose candidates are filtered by a verifier (chapter 13).

    Parameters
    ----------
    model : a batch model
        The generator: candidates come from its default sampler, their statistics from its
        ``stats``.
    score : callable ``score(x, params) -> (R, m)``
        The verifier (see :func:`gaussian_loglik`, :func:`truth_oracle`,
        :func:`rejection_toward`, :func:`categorical_logprob`).
    keep : float in (0, 1]
        ``rule="top"``: the kept fraction (m = ceil(n / keep) candidates per kept n);
        otherwise the expected acceptance rate, used only to size batches of candidates.
        ``keep=1`` with ``rule="top"`` is no curation at all (``sample_stats`` is the wrapped
        model's, draw for draw).
    rule : {"top", "threshold", "bernoulli"}
        How scores become decisions (module docstring).
    threshold : float
        Required by (and only by) ``rule="threshold"``.
    max_candidates : int
        Per chain and call, at most ``max_candidates * n`` candidates are drawn by the accept
        rules before a RuntimeError reports a verifier that accepts (almost) nothing.
    curate_model0 : bool
        Also curate model 0's samples (generation 1's data, drawn from the truth); default
        False, as everywhere in the book.
    """

    exact_stats = False

    def __init__(self, model, score: Callable, *, keep: float = 0.5, rule: str = "top",
                 threshold: float | None = None, max_candidates: int = 1000,
                 curate_model0: bool = False):
        for method in ("sample", "stats", "fit", "combine", "broadcast", "record", "sample_stats"):
            if not callable(getattr(model, method, None)):
                raise ValueError(f"model must be a batch model with a {method}() method, "
                                 f"got {model!r}")
        if not callable(score):
            raise ValueError(f"score must be callable score(x, params) -> (R, m), got {score!r}")
        if isinstance(keep, bool) or not isinstance(keep, numbers.Real) \
                or not np.isfinite(keep) or not 0.0 < float(keep) <= 1.0:
            raise ValueError(f"keep must be a number in (0, 1], got {keep!r}")
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
        if rule == "threshold":
            if threshold is None:
                raise ValueError("threshold is required when rule='threshold'")
            threshold = check_real("threshold", threshold)
        elif threshold is not None:
            raise ValueError(f"threshold is only used with rule='threshold' (rule={rule!r})")
        self.model = model
        self.score = score
        self.keep = float(keep)
        self.rule = rule
        self.threshold = threshold
        self.max_candidates = check_int("max_candidates", max_candidates, minimum=1)
        if not isinstance(curate_model0, (bool, np.bool_)):
            raise ValueError(f"curate_model0 must be True or False, got {curate_model0!r}")
        self.applies_to_model0 = bool(curate_model0)
        self._proposal = default_sampler(model)
        try:
            sig = inspect.signature(score).parameters
            self._chains_kw = "chains" in sig or any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.values())
        except (TypeError, ValueError):
            self._chains_kw = False
        self.name = f"curated-{getattr(model, 'name', type(model).__name__)}"

    def __repr__(self):
        extra = f", threshold={self.threshold:g}" if self.rule == "threshold" else ""
        return f"Curated({self.model!r}, keep={self.keep:g}, rule={self.rule!r}{extra})"

    # the sampler interface of collapselab.sources --------------------------------------------
    def draw_points(self, model, params, n, rng):
        return self.sample(params, n, rng)

    def draw_stats(self, model, params, n, rng, exact=False):
        return self.sample_stats(params, n, rng, exact=exact)

    # curated sampling ------------------------------------------------------------------------
    def candidates(self, n: int) -> int:
        """m = ceil(n / keep), the candidates drawn per kept batch of n (rule 'top')."""
        n = check_int("n", n, minimum=1)
        return max(n, int(math.ceil(n / self.keep - 1e-9)))

    def sample(self, params, n: int, rng) -> np.ndarray:
        """n *curated* samples per chain, shape (R, n, ...)."""
        n = check_int("n", n, minimum=1)
        rng = as_rng(rng)
        if self.rule == "top":
            return self._top(params, n, rng)
        return self._accept(params, n, rng)

    def sample_stats(self, params, n: int, rng, exact: bool = False):
        """Statistics of n curated samples per chain (``exact`` is used only when nothing is
        curated: ``rule="top"`` with ``keep=1``)."""
        n = check_int("n", n, minimum=1)
        exact = check_bool("exact", exact)
        if self.rule == "top" and self.candidates(n) == n:
            return self._proposal.draw_stats(self.model, params, n, rng, exact=exact)
        return self.model.stats(self.sample(params, n, rng))

    def _propose(self, params, m, rng):
        return self._proposal.draw_points(self.model, params, m, rng)

    def _scores(self, x, params):
        return _check_scores(self.score(x, params), x.shape[:2], self.rule)

    def _top(self, params, n, rng):
        m = self.candidates(n)
        x = self._propose(params, m, rng)
        if m == n:
            return x
        s = self._scores(x, params)
        idx = np.argpartition(-s, n - 1, axis=1)[:, :n]
        idx = idx.reshape(idx.shape + (1,) * (x.ndim - 2))
        return np.take_along_axis(x, idx, axis=1)

    def _accept(self, params, n, rng):
        R = _n_chains(params)
        if R is None:
            raise ValueError("cannot tell the number of chains of these parameters")
        out, filled = None, np.zeros(R, dtype=np.int64)
        drawn_total, accepted_total = 0, 0
        active = np.arange(R)
        budget = self.max_candidates * n
        drawn = 0
        rate = self.keep
        while active.size:
            need = int(n - filled[active].min())
            block = int(math.ceil(1.1 * need / max(rate, 1e-3))) + 8
            block = min(block, max(budget - drawn, 1), 64 * n + 64)
            if active.size == R:
                sub = params
            elif self._chains_kw:
                sub = _take(params, active, R)
            else:
                sub = None
            if sub is None:  # sample every chain, use the active ones
                x_all = self._propose(params, block, rng)
                x = x_all[active]
                s = self._scores(x_all, params)[active]
            elif active.size == R:
                x = self._propose(sub, block, rng)
                s = self._scores(x, sub)
            else:
                x = self._propose(sub, block, rng)
                s = _check_scores(self.score(x, sub, chains=active), x.shape[:2], self.rule)
            if self.rule == "threshold":
                acc = s >= self.threshold
            else:
                acc = rng.random(s.shape) < s
            if out is None:
                out = np.empty((R, n) + x.shape[2:], dtype=x.dtype)
            pos = filled[active][:, None] + np.cumsum(acc, axis=1) - 1
            ok = acc & (pos < n)
            r_loc, c = np.nonzero(ok)
            out[active[r_loc], pos[r_loc, c]] = x[r_loc, c]
            n_acc = acc.sum(axis=1)
            filled[active] = np.minimum(n, filled[active] + n_acc)
            drawn += block
            drawn_total += block * active.size
            accepted_total += int(n_acc.sum())
            rate = max(accepted_total / drawn_total, 1e-3)
            active = active[filled[active] < n]
            if active.size and drawn >= budget:
                raise RuntimeError(
                    f"the verifier accepted fewer than n={n} of {drawn} candidates in "
                    f"{active.size} chain(s) (max_candidates={self.max_candidates} per kept "
                    "point): it rejects (almost) everything these models generate")
        return out


# ------------------------------------------------------------------------------------------
# verifiers
# ------------------------------------------------------------------------------------------

def _normal(params, name) -> Normal1DParams:
    if not isinstance(params, Normal1DParams):
        raise ValueError(f"{name} must be Normal1DParams (a 1-D Gaussian), got {type(params).__name__}")
    check_array(f"{name}.mean", params.mean, ndim=1)
    check_array(f"{name}.var", params.var, ndim=1, positive=True)
    return params


def _chainwise(a, R, name, chains=None):
    """A per-chain array (1 or R_total chains) as a column for the R candidate rows."""
    if a.shape[0] == 1:
        return a[:, None]
    if chains is not None:
        return a[chains][:, None]
    if a.shape[0] != R:
        raise ValueError(f"{name} holds {a.shape[0]} chains but the candidates come from {R}")
    return a[:, None]


def _gauss_logpdf(x, mean, var):
    return -0.5 * (_LOG_2PI + np.log(var) + (x - mean) ** 2 / var)


def gaussian_loglik(reference: Normal1DParams | None = None, *, relative: bool = False,
                    proposal: Callable | None = None):
    """Verifier: log-density of each candidate under a fixed 1-D normal ``reference`` (for
    example a model fitted to held-out real data, or the truth itself), or, when ``reference``
    is None, under the generating model itself (*typicality*, {prf:ref}`thm-13-typicality`).

    ``relative=True`` scores log p(x) - max_y log p(y) = -(x - m)^2 / (2 v) instead, so that the
    threshold -z^2/2 keeps exactly the points within z standard deviations, whatever the
    variance (the threshold rule of {prf:ref}`thm-13-typicality`).  ``proposal`` maps the chains'
    parameters to the distribution they actually sample from (e.g.
    ``TemperedGaussian1D.sampler_params``); the default is the parameters themselves."""
    relative = check_bool("relative", relative)
    if proposal is not None:
        check_callable("proposal", proposal)
    if reference is not None:
        reference = _normal(reference, "reference")

    def score(x, params, chains=None):
        if reference is None:
            p = _normal(proposal(params) if proposal else params, "params")
        else:
            p = reference
        R = x.shape[0]
        ch = None if reference is None else chains
        mean, var = _chainwise(p.mean, R, "reference", ch), _chainwise(p.var, R, "reference", ch)
        if relative:
            return -0.5 * (x - mean) ** 2 / var
        return _gauss_logpdf(x, mean, var)

    score.__name__ = "self_loglik" if reference is None else "reference_loglik"
    return score


def truth_oracle(truth: Normal1DParams, z: float = 2.0, *, false_reject: float = 0.0,
                 false_accept: float = 0.0):
    """Verifier (acceptance probabilities, for ``rule="bernoulli"``): a noisy correctness
    oracle for a Gaussian truth.  A candidate within z true standard deviations of the true mean
    is "correct" and accepted with probability 1 - false_reject; one outside is accepted with
    probability false_accept."""
    truth = _normal(truth, "truth")
    z = check_real("z", z, minimum=0.0, strict_min=True)
    fr = check_real("false_reject", false_reject, 0.0, 1.0)
    fa = check_real("false_accept", false_accept, 0.0, 1.0)
    if fr == 1.0 and fa == 0.0:
        raise ValueError("false_reject=1 with false_accept=0 accepts nothing")

    def score(x, params, chains=None):
        R = x.shape[0]
        mean = _chainwise(truth.mean, R, "truth", chains)
        var = _chainwise(truth.var, R, "truth", chains)
        inside = np.abs(x - mean) <= z * np.sqrt(var)
        return np.where(inside, 1.0 - fr, fa)

    score.__name__ = "truth_oracle"
    return score


def rejection_toward(target: Normal1DParams, *, max_ratio: float = 20.0,
                     proposal: Callable | None = None):
    """Verifier (acceptance probabilities, ``rule="bernoulli"``): rejection sampling from each
    chain's model q toward the 1-D normal ``target`` p, accepting x with probability
    min(1, p(x) / (M q(x))), where M = min(sup p/q, max_ratio) per chain
    ({prf:ref}`thm-13-rejection`).  When sup p/q <= max_ratio the kept points are exact draws
    from p; otherwise (a model narrower than the target) they follow min(p, M q), normalised.

    ``target`` may hold one chain or R chains (e.g. one held-out fit per chain); ``proposal`` maps
    parameters to the sampling distribution as in :func:`gaussian_loglik`."""
    from ..theory.curation import gaussian_log_ratio_bound

    target = _normal(target, "target")
    max_ratio = check_real("max_ratio", max_ratio, minimum=1.0)
    log_cap = math.log(max_ratio)

    def score(x, params, chains=None):
        q = _normal(proposal(params) if proposal else params, "params")
        R = x.shape[0]
        pm = _chainwise(target.mean, R, "target", chains)
        pv = _chainwise(target.var, R, "target", chains)
        qm, qv = q.mean[:, None], q.var[:, None]
        log_m = np.minimum(gaussian_log_ratio_bound(pm, pv, qm, qv), log_cap)
        log_acc = _gauss_logpdf(x, pm, pv) - _gauss_logpdf(x, qm, qv) - log_m
        return np.exp(np.minimum(log_acc, 0.0))

    score.__name__ = "rejection_toward"
    return score


def categorical_logprob(reference=None):
    """Verifier for :class:`~collapselab.models.categorical.Categorical`: the log-probability of
    each sampled category under ``reference`` (probability vectors (K,) or (R, K)), or under the
    generating model itself when ``reference`` is None (typicality: rare tokens score low).
    Categories of probability zero score -inf."""
    ref = None
    if reference is not None:
        ref = check_array("reference", reference, ndim=(1, 2), nonnegative=True)
        if ref.ndim == 1:
            ref = ref[None, :]

    def score(x, params, chains=None):
        p = np.asarray(params, dtype=float) if ref is None else ref
        if ref is not None and chains is not None and p.shape[0] > 1:
            p = p[chains]
        if p.shape[0] == 1 and x.shape[0] > 1:
            p = np.broadcast_to(p, (x.shape[0], p.shape[1]))
        if p.shape[0] != x.shape[0]:
            raise ValueError(f"reference holds {p.shape[0]} chains but the candidates come "
                             f"from {x.shape[0]}")
        with np.errstate(divide="ignore"):
            return np.log(np.take_along_axis(p, np.asarray(x, dtype=np.int64), axis=1))

    score.__name__ = "categorical_logprob"
    return score


__all__ = ["Curated", "gaussian_loglik", "truth_oracle",
           "rejection_toward", "categorical_logprob", "RULES"]
