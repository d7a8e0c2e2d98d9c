"""The public-API fuzz harness behind ``tests/test_fuzz_api.py`` (issue 12).

It walks ``collapselab``'s modules itself, so a new public function, class or method is covered
without editing anything here.  For every callable it builds one valid *baseline* call (from the
signature's defaults and a table of good values by argument name, with model-specific values
for ``params``, ``stats``, ``data``, ...), then replaces one argument at a time by each value of
a table of bad values chosen by the argument's kind (integer, real, boolean, string, seed,
array, parameter object, callable).  Each case runs in a forked worker under an address-space
limit and a per-call time limit; the outcome is one of

``ok``          returned, and nothing non-finite came out of finite input
``clean``       ValueError/TypeError raised by collapselab whose message names the argument
``unnamed``     ValueError/TypeError raised by collapselab that does not name it
``internal``    any other exception, or one raised from inside numpy/scipy/Python
``nonfinite``   NaN (or an undocumented inf) returned from finite input
``accepted``    a boolean or a non-integral float taken as an integer, or a non-bool as a flag
``hang``        the call ran past the time limit (the worker is killed and restarted)
``memory``      MemoryError, or the worker died under the address-space limit

Run ``python tests/fuzz_api.py`` for the counts by outcome and by module.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import multiprocessing as mp
import numbers
import os
import pkgutil
import resource
import sys
import time
import traceback
import warnings
from collections import Counter

import numpy as np

GOOD_OUTCOMES = {"ok", "clean", "no-baseline"}
TIME_LIMIT = 4.0          # seconds per call (generous: the machine is shared)
MEMORY_LIMIT = 3 << 30    # address space of the worker, bytes

# Modules whose callables are not fuzzed, with the reason.
SKIP_MODULES: dict[str, str] = {}
# Callables not fuzzed, with the reason.
SKIP_CALLABLES = {
    "collapselab.sweep.run_sweep": "tested in tests/test_robustness.py and test_sweep.py (it forks a pool)",
    "collapselab.widgets.loop_explorer": "builds ipywidgets; its arguments are checked by plot_loop's rules",
    "collapselab.widgets.LoopExplorer": "the widget class behind loop_explorer",
    "collapselab.sources.RealSource.bind": "abstract (raises NotImplementedError); every subclass's bind is fuzzed",
    "collapselab.sources.Sampler.draw_points": "abstract; every subclass's draw_points is fuzzed",
    "collapselab.sources.Sampler.draw_stats": "abstract; every subclass's draw_stats is fuzzed",
    "collapselab.sources.ParamSampler.sampler_params": "abstract; Tempered's and CategoricalBias's are fuzzed",
    "collapselab.widgets.plot_loop": "draws a figure per call (~0.7 s): too slow for the budget; "
                                     "its checks are tested in tests/test_robustness.py",
}

# Arguments documented as real-valued although their baseline value is an integer.
REAL_VALUED = {"collapselab.theory.error_types.gaussian_w2sq_all_real": {"n"}}

# ---------------------------------------------------------------------------------------------
# good values by argument name (used when a required argument has no default)
_GOOD = {
    "n": 20, "m": 20, "generations": 3, "replicates": 3, "t": 3, "T": 3, "k": 2, "K": 5, "d": 2,
    "dim": 2, "horizon": 3, "seed": 0, "alpha": 0.5, "sigma2": 1.0, "sigma": 1.0, "var": 1.0,
    "p": 0.3, "p0": 0.3, "q": 0.5, "tau": 0.5, "beta": 0.5, "L": 0.5, "eps": 0.1, "epsilon": 0.1,
    "ddof": 0, "n_categories": 5, "n_components": 2, "width": 4.0, "rate": 0.5, "steps": 3,
    "lam": 0.5, "ridge": 0.0, "s": 1.1, "mu1": -2.0, "mu2": 2.0, "sigma1": 1.0, "tail": 0.5,
    "weights": [0.5, 0.5], "means": [-2.0, 2.0], "vars": [1.0, 1.0], "mean": 0.0, "cov": [[1.0, 0.0], [0.0, 1.0]],
    "every": 2, "fraction": 0.5, "threshold": 0.5, "temperature": 0.8, "bandwidth": 0.5, "h": 0.5,
    "x": [0.0, 1.0], "u": [0.25, 0.5, 0.75], "values": [1.0, 0.5, 0.25], "series": [1.0, 0.8, 0.7, 0.6],
    "index": 0, "level": 0.9, "per_class": 3, "classes": 2, "components": 1, "noise_var": 1.0,
    "sizes": [10, 20], "ns": [10, 20], "alphas": [0.0, 0.5], "grid": 64, "levels": 64, "keep": 0.5,
    "estimate": [1.0, 1.1], "expected": 1.0, "se": 0.5, "samples": [[1.0, 1.2, 0.8, 1.1]],
    "replace_curve": [0.0, 1.0, 2.0, 3.0], "costs": [1.0, 2.0, 3.0], "errors": [3.0, 1.0, 2.0],
    "target": 2.0, "name": "replace", "size": 10, "labels": [0, 1, 0, 1, 0, 1], "holdout": 0.5,
    "shape": (1, 2), "modes": [-2.0, 2.0], "df": [3, 4], "divergences": [[0.1, 0.2, 0.3, 0.4]],
    "stable_divergences": [[0.1, 0.2, 0.1, 0.2], [0.2, 0.1, 0.2, 0.1]], "num_categories": 3,
    "y": [[0.1, 0.5, -0.3, 1.2]], "generated": [[0.1, 0.5, -0.3, 1.2]], "real": [[0.2, -0.5, 0.3, 0.9]],
    "alarms": [1, -1, 3], "ratio": [1.0, 1.5, 2.0, 2.5], "C": 2.0, "d0": 1.0, "kappa": 0.5,
    "target_mean": 0.0, "target_var": 1.0, "model_mean": 0.5, "model_var": 2.0, "top_k": 2,
    "top_p": 0.8, "w2sq": 0.1, "p_star": [0.5, 0.3, 0.2], "p_bar": [0.5, 0.3, 0.2], "surviving": 3,
    "trace0": 2.0, "mean_diff": 0.5, "false_alarm": 0.05, "consecutive": 2, "weights0": [0.5, 0.5],
    "design": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "window": 3, "z": 2.0, "centres": [[0.0, 1.0]],
    "base": 5, "widths": [0.5], "M": 3.0, "axes": {"a": [1, 2]}, "score": None, "curate_model0": False, "tau2": 0.25,
}

_LAZY = {
    "schedule": lambda: __import__("collapselab").replace(),
    "schedules": lambda: {"replace": __import__("collapselab").replace(),
                          "accumulate": __import__("collapselab").accumulate()},
    "metric": lambda: __import__("collapselab").metrics.w2_to_truth,
    "ax": lambda: __import__("matplotlib.pyplot", fromlist=["x"]).subplots()[1],
    "curated": lambda: __import__("collapselab").models.Curated(
        __import__("collapselab").Gaussian1D(), __import__("collapselab").models.gaussian_loglik()),
    "score": lambda: __import__("collapselab").models.gaussian_loglik(),
    "normal": lambda: __import__("collapselab").Gaussian1D().params(0.0, 1.0, replicates=2),
    "pca_trajectory": lambda: __import__("collapselab").run_loop(
        __import__("collapselab").models.PCAGaussian(1), _default_params(__import__("collapselab").models.PCAGaussian(1), R=1),
        n=10, generations=2, replicates=2, seed=0),
    "kde_truth": lambda: __import__("collapselab").models.kde.gaussian_mixture([[-1.0, 1.0]], [0.5]),
    "gauss_model": lambda: __import__("collapselab").Gaussian1D(),
    "rng": lambda: np.random.default_rng(0),
    "empirical_model": lambda: __import__("collapselab").models.Empirical(),
    "truth_source": lambda: __import__("collapselab").sources.Truth(),
    "own_sampler": lambda: __import__("collapselab").sources.OwnSampler(),
    # the context a source or sampler is bound to (the loop builds one per run)
    "ctx": lambda: __import__("collapselab").sources.LoopContext(
        model=__import__("collapselab").Gaussian1D(), truth=__import__("collapselab").Gaussian1D().params(0, 1, replicates=3),
        replicates=3, n=10, generations=3, schedule=__import__("collapselab").replace(), exact=False),
    "trajectory": lambda: __import__("collapselab").run_loop(
        __import__("collapselab").Gaussian1D(), __import__("collapselab").Gaussian1D().params(0, 1),
        n=10, generations=3, replicates=3, seed=0),
}


_D = [1.0, 0.8, 0.7, 0.65, 0.6, 0.62, 0.58, 0.6, 0.59, 0.61, 0.6, 0.6, 0.61, 0.59, 0.6]
_LABELS = [[0, 1, 2, 0, 1, 2, 0, 0], [2, 1, 0, 0, 1, 2, 1, 1]]
# good values for one callable's arguments, where the name alone does not say
_BY_CALLABLE = {
    "collapselab.compare.target_cost": {"schedule": "mix"},
    "collapselab.datasets.to_images": {"x": [[0.0, 1.0], [2.0, 3.0]]},
    "collapselab.models.categorical.tail_categories": {"truth": [0.4, 0.3, 0.2, 0.1]},
    "collapselab.models.categorical.kl_model_to_truth": {"truth": "params"},
    "collapselab.models.categorical.kl_truth_to_model": {"truth": "params"},
    "collapselab.models.categorical.tv_to_truth": {"truth": "params"},
    "collapselab.models.categorical.surviving_metric": {"truth": "params"},
    "collapselab.models.curated.rejection_toward": {"target": "truth"},
    "collapselab.models.gaussian.GaussianMV.params": {"mean": [0.0, 0.0]},
    "collapselab.models.kde.cdf": {"x": [0.0, 1.0]},
    "collapselab.models.kde.pdf": {"x": [0.0, 1.0]},
    "collapselab.models.pca_gaussian.PCAGaussian.fit_data": {"data": [[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.3, 0.3, 0.1], [0.9, 0.1, 0.4]]},
    "collapselab.monitoring.alarm_statistic": {"divergences": np.array([_D, _D]).T},
    "collapselab.monitoring.calibrate_threshold": {"stable_divergences": np.array([_D] * 20).T},
    "collapselab.monitoring.contraction_estimate": {"d": _D},
    "collapselab.monitoring.kappa_warning": {"divergences": np.array([_D, _D]).T},
    "collapselab.monitoring.early_warning": {"divergences": np.array([_D, _D]).T},
    "collapselab.monitoring.rare_category_coverage": {"generated": _LABELS, "real": _LABELS, "threshold": 0.3},
    "collapselab.theory.monitoring.mmd2_gaussians": {"p": "normal", "q": "normal"},
    "collapselab.models.pca_gaussian.recorded_params": {"trajectory": "pca_trajectory"},
    "collapselab.models.pca_gaussian.PCAGaussian.params": {
        "weights": [1.0], "means": [[0.0, 0.0, 0.0]], "directions": [[[1.0], [0.0], [0.0]]],
        "variances": [[2.0]], "noise_var": [0.5]},
    "collapselab.plotting.fan_chart": {"values": [[0.1, 0.2], [0.2, 0.3], [0.3, 0.2]], "x": [0, 1, 2]},
    "collapselab.plotting.sample_paths": {"values": [[0.1, 0.2], [0.2, 0.3], [0.3, 0.2]], "x": [0, 1, 2]},
    "collapselab.theory.contamination.memory_kernel": {"s": 1, "t": 3},
    "collapselab.theory.contraction.estimate_contraction": {"d": _D},
    "collapselab.theory.contraction.recursion_slack": {"d": _D},
    "collapselab.theory.error_types.loss_probability_bound": {"tau": 2.0},
    "collapselab.theory.error_types.two_category_map_slope": {"x": 0.3},
    "collapselab.theory.monitoring.gaussian_kernel_mean": {"mean_diff": [0.5, 0.5]},
    "collapselab.checks.same_trajectory": {"a": "trajectory", "b": "trajectory"},
    "collapselab.widgets.plot_loop": {"quantity": "var", "replicates": 20, "model": "model", "truth": "truth"},
    "collapselab.checks.assert_same_trajectory": {"a": "trajectory", "b": "trajectory"},
    # the non-parametric CRT (chapter 7), its rates and the sources of the loop
    "collapselab.crt.at_generations": {"f": "metric", "generations": [0, 1, 3]},
    "collapselab.crt.biased_mixture": {"truth": "kde_truth", "contaminant": "kde_truth", "b": 0.2},
    "collapselab.crt.run_crt": {"model": "empirical_model", "alpha": 0.5, "n": 10, "generations": 3},
    "collapselab.models.kde.PowerBandwidth": {"h0": 0.5, "p": 0.2, "batch": 10},
    "collapselab.models.kde.PowerBandwidth.generation": {"N": [10, 20, 30]},
    "collapselab.models.sampling_bias.CategoricalBias.sampler_params": {"params": np.full((3, 5), 0.2)},
    "collapselab.models.tempered.Tempered.sampler_params": {"params": "normal"},
    "collapselab.rates.crt_exponent": {"q": 0.4},
    "collapselab.static_explorer.slider_explorer": {
        "draw": lambda fig, v: fig.add_subplot().plot([0.0, float(v)]), "values": [1, 2],
        "name": "fuzz", "label": "v", "figsize": (1.0, 1.0), "dpi": 20.0, "colors": 16},
    "collapselab.rates.fit_exponent": {"t": [1, 2, 4, 8, 16, 32, 64, 128],
                                       "err": [1.0, 0.72, 0.49, 0.36, 0.25, 0.17, 0.13, 0.09]},
    "collapselab.sources.DriftingTruth": {"params_at": lambda t: __import__("collapselab").Gaussian1D().params(0.1 * t, 1.0)},
    "collapselab.sources.OwnSampler.draw_points": {"model": "gauss_model", "params": "normal"},
    "collapselab.sources.OwnSampler.draw_stats": {"model": "gauss_model", "params": "normal"},
    "collapselab.sources.Truth.bind": {"rng": "rng"},
    "collapselab.sources.ParamSampler.draw_points": {"model": "gauss_model", "params": "normal"},
    "collapselab.sources.ParamSampler.draw_stats": {"model": "gauss_model", "params": "normal"},
    "collapselab.sources.bind_real": {"real": "truth_source"},
    "collapselab.sources.bind_synthetic": {"synthetic": "own_sampler"},
    "collapselab.sources.concat_points": {"chunks": [np.zeros((3, 4)), np.ones((3, 2))]},
    "collapselab.sources.sample_generation": {"model": "gauss_model", "params": "normal", "generation": 1},
    "collapselab.sources.take_points": {"x": np.arange(18.0).reshape(3, 6), "idx": np.array([[0, 2], [1, 3], [4, 5]])},
    "collapselab.theory.crt.bias_carry": {"bias": [0.1, 0.1, 0.1]},
    "collapselab.theory.crt.decaying_bias": {"b0": 0.5},
    "collapselab.wasserstein.mixture_cdf": {"x": [[-1.0, 0.0, 1.0]], "mu": [[-1.0, 1.0]], "s": [[0.5, 0.5]],
                                            "w": [[0.5, 0.5]]},
    "collapselab.wasserstein.w1_empirical": {"atoms": [[-0.5, 0.1, 0.7], [0.2, -1.0, 1.1], [0.0, 0.3, -0.2]]},
    "collapselab.wasserstein.w1_normal_scale": {"sigma_a": 1.0, "sigma_b": 2.0},
}
# theory modules take plain numbers: no model context
_PLAIN = {"p": 0.3, "q": 0.5, "T": 10}
_PLAIN_BY_MODULE = {"collapselab.theory.error_types": {"p": [0.5, 0.3, 0.2], "q": [0.4, 0.4, 0.2]},
                    "collapselab.theory.categorical": {"p": [0.5, 0.3, 0.2]}}


def _rng():
    return np.random.default_rng(0)


def model_context(model):
    """Valid params/stats/data for a model instance, for its own methods and its metrics."""
    rng = _rng()
    ctx = {}
    try:
        params = _default_params(model)
    except Exception:
        return ctx
    if params is None:
        return ctx
    try:
        truth = _default_params(model, R=1)
    except Exception:
        truth = params
    ctx.update(params=params, truth=truth, p=params, q=params, init=None)
    for name in ("stats", "a", "b"):
        try:
            ctx[name] = model.sample_stats(params, 20, np.random.default_rng(1), exact=False)
        except Exception:
            pass
    try:
        ctx["data"] = model.sample(params, 20, rng)
        ctx["x"] = ctx["data"]
    except Exception:
        pass
    ctx["rng"] = _rng()
    if hasattr(model, "n_categories"):
        ctx["probs"] = np.full(model.n_categories, 1.0 / model.n_categories)
    if hasattr(model, "dim") and isinstance(getattr(model, "dim"), int):
        ctx["coef"] = np.ones(model.dim)
    return ctx


def _default_params(model, R=3):
    import collapselab as cl
    from collapselab import models as M
    if isinstance(model, M.GaussianMixture1D):
        K = model.n_components
        return model.params(np.full(K, 1.0 / K), np.linspace(-3, 3, K), np.ones(K), replicates=R)
    if isinstance(model, M.Categorical):
        return model.params(np.full(model.n_categories, 1.0 / model.n_categories), replicates=R)
    if isinstance(model, M.GaussianMV):
        return model.params(np.zeros(2), np.eye(2), replicates=R)
    if isinstance(model, M.LinearRegression):
        return model.params(np.ones(model.dim), replicates=R)
    if isinstance(model, M.GaussianKDE):
        return model.params(np.random.default_rng(2).standard_normal((R, 15)))
    if isinstance(model, M.PCAGaussian):
        return model.fit(model.stats(np.random.default_rng(2).standard_normal((R, 20, 3))))
    if isinstance(model, M.BiasedCategorical):
        return model.params(np.full(5, 0.2), replicates=R)
    if isinstance(model, M.Curated):
        return model.model.params(0.0, 1.0, replicates=R)
    if isinstance(model, M.Empirical):
        return model.params(np.random.default_rng(2).standard_normal((R, 15)))
    sig = inspect.signature(model.params)
    if "replicates" in sig.parameters:
        try:
            return model.params(replicates=R)
        except TypeError:
            pass
    return model.params()
    del cl


def _instances():
    """One default instance of every public model-like class (constructed from its defaults)."""
    import collapselab as cl
    from collapselab import models as M
    out = [M.Gaussian1D(), M.GaussianMV(), M.Categorical(5), M.GaussianMixture1D(2),
           M.LinearRegression(2)]
    makers = [M.GaussianKDE, lambda: M.PCAGaussian(1), M.TemperedGaussian1D, M.KnownVarianceGaussian1D,
              lambda: M.BiasedCategorical(5, tau=0.8),
              lambda: M.Curated(M.Gaussian1D(), M.gaussian_loglik(), keep=0.5), M.Empirical,
              lambda: M.kde.PowerBandwidth(0.5, 0.2, 10),
              lambda: cl.sources.DriftingTruth(lambda t: M.Gaussian1D().params(0.1 * t, 1.0)),
              lambda: cl.sources.FixedSample(cl.sources.Truth()), M.Tempered,
              lambda: cl.datasets.Bootstrap(np.random.default_rng(0).standard_normal((30, 1)))]
    for make in makers:
        try:
            out.append(make())
        except Exception:
            pass
    return out
    del cl


# ---------------------------------------------------------------------------------------------
# enumeration

@dataclasses.dataclass
class Target:
    qualname: str          # module.function or module.Class.method or module.Class (constructor)
    module: str
    kind: str              # "function", "constructor", "method"
    cls: object = None
    attr: str | None = None


def public_modules():
    import collapselab
    mods = [collapselab]
    for info in pkgutil.walk_packages(collapselab.__path__, "collapselab."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        mods.append(importlib.import_module(info.name))
    return mods


def targets() -> list[Target]:
    out = []
    for mod in public_modules():
        if mod.__name__ in SKIP_MODULES:
            continue
        names = getattr(mod, "__all__", None) or [k for k in vars(mod) if not k.startswith("_")]
        for name in names:
            obj = getattr(mod, name, None)
            if getattr(obj, "__module__", None) != mod.__name__:
                continue
            qual = f"{mod.__name__}.{name}"
            if any(qual == k or qual.startswith(k + ".") for k in SKIP_CALLABLES):
                continue
            if inspect.isfunction(obj):
                out.append(Target(qual, mod.__name__, "function"))
            elif inspect.isclass(obj) and getattr(obj, "_is_protocol", False):
                continue  # an interface, implemented (and fuzzed) by every model
            elif inspect.isclass(obj) and not issubclass(obj, BaseException):
                if dataclasses.is_dataclass(obj):
                    continue  # plain containers: validated where they are used
                out.append(Target(qual, mod.__name__, "constructor", cls=obj))
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or not inspect.isfunction(member):
                        continue
                    if f"{qual}.{attr}" in SKIP_CALLABLES:
                        continue
                    out.append(Target(f"{qual}.{attr}", mod.__name__, "method", cls=obj, attr=attr))
    return out


# ---------------------------------------------------------------------------------------------
# bad values

class _Opaque:
    def __repr__(self):
        return "<object>"


def _annotation(param) -> str:
    ann = param.annotation
    return ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))


def kind_of(name: str, value, param) -> str:
    ann = _annotation(param) if param is not None else ""
    if name in ("seed", "rng"):
        return "seed"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int" if ("float" not in ann) else "real"
    if isinstance(value, numbers.Real):
        return "real"
    if isinstance(value, str):
        return "str"
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and value
                                         and all(isinstance(v, numbers.Real) or isinstance(v, (list, tuple)) for v in value)):
        return "array"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "params"
    if callable(value):
        return "callable"
    return "other"


def _mutated_fields(value):
    """Copies of a parameter/statistics dataclass with one array field spoiled."""
    out = []
    for f in dataclasses.fields(value):
        arr = getattr(value, f.name)
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fi" or arr.size == 0:
            continue
        for label, fill in (("nan", np.nan), ("neg", -1.0)):
            bad = np.array(arr, dtype=float, copy=True)
            bad.flat[0] = fill
            out.append((f"{f.name}[0]={label}", dataclasses.replace(value, **{f.name: bad})))
        if arr.ndim >= 1 and arr.shape[0] > 1:
            out.append((f"{f.name} short", dataclasses.replace(value, **{f.name: np.array(arr[:-1], copy=True)})))
    return out


def bad_values(kind: str, value):
    """(label, bad value) pairs for an argument of this kind and baseline value."""
    common = [("None", None), ("object", _Opaque())]
    if kind == "int":
        return [("-1", -1), ("2.5", 2.5), ("nan", math.nan), ("True", True), ("str", "3"),
                ("1e12", 10**12)] + common
    if kind == "real":
        return [("nan", math.nan), ("inf", math.inf), ("-1", -1.0), ("True", True), ("str", "x"),
                ("1e300", 1e300)] + common
    if kind == "bool":
        return [("'no'", "no"), ("1", 1), ("None", None)]
    if kind == "str":
        return [("'?'", "no-such-option"), ("3", 3)]
    if kind == "seed":
        return [("True", True), ("-1", -1), ("2.5", 2.5), ("str", "x"), ("object", _Opaque())]
    if kind == "array":
        arr = np.asarray(value, dtype=float)
        out = [("nan", np.where(np.ones(arr.shape, bool) & (np.arange(arr.size).reshape(arr.shape) == 0), np.nan, arr)),
               ("inf", np.where(np.arange(arr.size).reshape(arr.shape) == 0, np.inf, arr)),
               ("empty", np.zeros((0,) + arr.shape[1:])), ("str", "abc"),
               ("extra axis", arr[None, ...])]
        if arr.size and np.all(arr >= 0):
            out.append(("negative", -np.abs(arr) - 1.0))
        return out + common
    if kind == "params":
        return _mutated_fields(value) + [("int", 3)] + common
    if kind == "callable":
        return [("int", 3)] + common
    return common


# ---------------------------------------------------------------------------------------------
# baselines

def _instance_for(cls, instances):
    for inst in instances:
        if type(inst) is cls:
            return inst
    for inst in instances:        # a base class's methods, through a subclass instance
        if isinstance(inst, cls):
            return inst
    try:
        return cls()
    except Exception:
        return None


def _context_for_module(modname, instances):
    """Argument values for module-level functions, by which family the module serves."""
    from collapselab import models as M
    fam = {
        "collapselab.metrics": M.Gaussian1D, "collapselab.models.gaussian": M.Gaussian1D,
        "collapselab.models.categorical": M.Categorical, "collapselab.models.mixture": M.GaussianMixture1D,
        "collapselab.models.regression": M.LinearRegression, "collapselab.models.pca_gaussian": M.PCAGaussian,
        "collapselab.models.kde": M.GaussianKDE, "collapselab.theory.kde": M.GaussianKDE,
        "collapselab.models.tempered": M.TemperedGaussian1D, "collapselab.theory.pca_gaussian": M.PCAGaussian,
        "collapselab.models.sampling_bias": M.BiasedCategorical,
        "collapselab.models.empirical": M.Empirical, "collapselab.wasserstein": M.GaussianKDE,
        "collapselab.crt": M.GaussianKDE,
    }.get(modname, M.Gaussian1D)
    inst = _instance_for(fam, instances)
    ctx = model_context(inst) if inst is not None else {}
    ctx["model"] = inst
    if modname.startswith("collapselab.theory.") and modname != "collapselab.theory.kde":
        ctx = {k: v for k, v in ctx.items() if k in ("rng", "model")}
        ctx.update(_PLAIN)
        ctx.update(_PLAIN_BY_MODULE.get(modname, {}))
    if modname in ("collapselab.models.kde", "collapselab.theory.kde", "collapselab.wasserstein", "collapselab.crt"):
        from collapselab.models.kde import gaussian_mixture
        ctx["truth"] = gaussian_mixture([[-1.0, 1.0]], [0.5])
    if modname in ("collapselab.models.categorical",):
        ctx["p"] = ctx["q"] = np.full(5, 0.2)
    if modname.startswith("collapselab.theory.categorical"):
        ctx["p"] = np.array([0.5, 0.3, 0.2])
    return ctx


def baseline(target: Target, instances):
    """(callable, {name: value}, {name: Parameter}) for a valid call, or raise."""
    if target.kind == "method":
        inst = _instance_for(target.cls, instances)
        if inst is None:
            raise RuntimeError("no default instance")
        func = getattr(inst, target.attr)
        ctx = model_context(inst)
        ctx["model"] = inst
    elif target.kind == "constructor":
        func = target.cls
        ctx = _context_for_module(target.module, instances)
    else:
        func = getattr(importlib.import_module(target.module), target.qualname.rsplit(".", 1)[1])
        ctx = _context_for_module(target.module, instances)
    for k, v in _BY_CALLABLE.get(target.qualname, {}).items():
        if isinstance(v, str) and v in _LAZY:
            ctx[k] = _LAZY[v]()
        elif isinstance(v, str) and v in ctx:
            ctx[k] = ctx[v]
        else:
            ctx[k] = v
    sig = inspect.signature(func)
    args, params = {}, {}
    for name, p in sig.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in _BY_CALLABLE.get(target.qualname, {}):
            args[name] = ctx[name]
        elif name in ctx and (p.default is p.empty or p.default is None) and ctx[name] is not None:
            args[name] = ctx[name]
        elif p.default is not p.empty:
            if p.default is None:
                continue  # optional: leave it out of the baseline
            args[name] = p.default
        elif name in ctx and ctx[name] is not None:
            args[name] = ctx[name]
        elif name in _LAZY:
            args[name] = _LAZY[name]()
        elif name in _GOOD and _GOOD[name] is not None:
            args[name] = _GOOD[name]
        else:
            raise RuntimeError(f"no good value for argument {name!r}")
        params[name] = p
    return func, args, params


def cases(target: Target, instances):
    """Yield (case label, argument name, kind, bad label) for one target, or a baseline failure."""
    func, args, params = baseline(target, instances)
    out = []
    for name, value in args.items():
        kind = kind_of(name, value, params[name])
        if kind == "int" and name in REAL_VALUED.get(target.qualname, ()):
            kind = "real"
        for label, _ in bad_values(kind, value):
            out.append((name, kind, label))
    return out


# ---------------------------------------------------------------------------------------------
# running one case

def _finite_input(value) -> bool:
    try:
        if isinstance(value, (bool, str)) or value is None:
            return True
        if isinstance(value, numbers.Real):
            return math.isfinite(value)
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
            return bool(np.all(np.isfinite(value)))
        if isinstance(value, (list, tuple)):
            return all(_finite_input(v) for v in value)
        if dataclasses.is_dataclass(value):
            return all(_finite_input(getattr(value, f.name)) for f in dataclasses.fields(value))
    except Exception:
        return True
    return True


def _nonfinite_output(out, depth=0):
    """'nan', 'inf' or None: the worst non-finite value found in a returned object."""
    if depth > 3:
        return None
    found = None
    try:
        if isinstance(out, (float, np.floating, np.ndarray)) and not isinstance(out, bool):
            arr = np.asarray(out)
            if arr.dtype.kind in "fc" and arr.size:
                if np.isnan(arr).any():
                    return "nan"
                if np.isinf(arr).any():
                    found = "inf"
        elif isinstance(out, (list, tuple)):
            for v in out[:50]:
                r = _nonfinite_output(v, depth + 1)
                if r == "nan":
                    return r
                found = found or r
        elif isinstance(out, dict):
            for v in list(out.values())[:50]:
                r = _nonfinite_output(v, depth + 1)
                if r == "nan":
                    return r
                found = found or r
        elif dataclasses.is_dataclass(out) and not isinstance(out, type):
            for f in dataclasses.fields(out):
                r = _nonfinite_output(getattr(out, f.name), depth + 1)
                if r == "nan":
                    return r
                found = found or r
    except Exception:
        return None
    return found


def _raised_in_library(exc) -> bool:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and f"{os.sep}collapselab{os.sep}" in last


def _names(name):
    out = {name}
    alias = {"rng": {"seed"}, "seed": {"rng"}, "a": {"stats"}, "b": {"stats"}, "p": {"params"},
             "q": {"params"}}
    return out | alias.get(name, set())


_BASELINE_OK: dict[str, str | None] = {}


def check_baseline(target: Target, instances):
    """None if the unmodified baseline call returns, else why not (cached per worker)."""
    if target.qualname not in _BASELINE_OK:
        try:
            func, args, _ = baseline(target, instances)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                func(**args)
            _BASELINE_OK[target.qualname] = None
        except Exception as exc:  # noqa: BLE001
            _BASELINE_OK[target.qualname] = f"{type(exc).__name__}: {str(exc)[:160]}"
        finally:
            _close_figures()
    return _BASELINE_OK[target.qualname]


def _close_figures():
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def run_case(target: Target, instances, name, kind, label):
    """Classify one call with argument ``name`` replaced by the bad value ``label``."""
    why = check_baseline(target, instances)
    if why is not None:
        return "no-baseline", why
    func, args, params = baseline(target, instances)
    bad = dict(bad_values(kind, args[name]))[label]
    call = dict(args)
    call[name] = bad
    finite_in = all(_finite_input(v) for v in call.values())
    doc = (inspect.getdoc(func) or "").lower()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                out = func(**call)
    except MemoryError:
        return "memory", "MemoryError"
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if not _raised_in_library(exc):
            return "internal", f"{type(exc).__name__}: {msg[:160]}"
        if any(n in msg for n in _names(name)):
            return "clean", None
        return "unnamed", f"{type(exc).__name__}: {msg[:160]}"
    except AssertionError as exc:
        if target.qualname.rsplit(".", 1)[-1].startswith("assert_"):
            return "ok", None   # an assertion helper failing its assertion: what it is for
        return "internal", f"AssertionError: {str(exc)[:160]}"
    except Exception as exc:  # noqa: BLE001 - classifying is the point
        return "internal", f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        _close_figures()
    if kind == "int" and label in ("True", "2.5"):
        return "accepted", f"took {label} as an integer"
    if kind == "bool" and label in ("'no'", "1"):
        return "accepted", f"took {label} as a flag"
    if kind == "seed" and label in ("True", "2.5"):
        return "accepted", f"took {label} as a seed"
    bad_out = _nonfinite_output(out)
    if bad_out == "nan" and finite_in and "nan" in doc:
        return "ok", None       # a documented NaN (e.g. "NaN if none")
    if bad_out == "nan":
        return "nonfinite", "returned NaN" + ("" if finite_in else " (from a NaN/inf argument, silently)")
    if finite_in and bad_out == "inf" and "inf" not in doc:
        return "nonfinite", "returned inf from finite input"
    return "ok", None


def _worker(conn, todo):
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    sys.stderr = open(os.devnull, "w")   # progress bars of fuzzed calls
    os.environ.setdefault("MPLBACKEND", "Agg")
    instances = _instances()
    tmap = {t.qualname: t for t in targets()}
    for i, (qual, name, kind, label) in enumerate(todo):
        try:
            check_baseline(tmap[qual], instances)   # not timed: only the mutated call is
        except Exception:  # noqa: BLE001
            pass
        conn.send(("start", i))
        try:
            outcome, detail = run_case(tmap[qual], instances, name, kind, label)
        except MemoryError:
            outcome, detail = "memory", "MemoryError"
        except Exception as exc:  # the harness itself failed on this case
            outcome, detail = "harness", f"{type(exc).__name__}: {exc}"
        conn.send(("done", i, outcome, detail))
    conn.send(("end",))


def run_all(todo, time_limit=TIME_LIMIT):
    """Run every case in forked workers; returns a list of (case, outcome, detail)."""
    ctx = mp.get_context("fork")
    results = [None] * len(todo)
    start = 0
    while start < len(todo):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(child, todo[start:]), daemon=True)
        proc.start()
        child.close()
        current, done = None, 0
        while True:
            # a mutated call gets time_limit; the untimed baseline checks get 60 s
            if not parent.poll(time_limit if current is not None else 60):
                # the current call is stuck in C code or Python: kill and restart after it
                proc.kill()
                proc.join()
                i = start + (current if current is not None else done)
                results[i] = (todo[i], "hang", f"no answer within {time_limit:g} s")
                start = i + 1
                break
            try:
                msg = parent.recv()
            except EOFError:
                proc.join()
                i = start + (current if current is not None else done)
                results[i] = (todo[i], "memory", f"worker died (exit code {proc.exitcode})")
                start = i + 1
                break
            if msg[0] == "start":
                current = msg[1]
            elif msg[0] == "done":
                results[start + msg[1]] = (todo[start + msg[1]], msg[2], msg[3])
                current, done = None, msg[1] + 1
            else:
                proc.join()
                start = len(todo)
                break
        parent.close()
    return results


def run_parallel(todo, workers: int = 2, time_limit=TIME_LIMIT):
    """:func:`run_all` on ``workers`` interleaved slices at once (one forked worker each)."""
    import threading
    workers = max(1, min(workers, len(todo)))
    parts = [todo[i::workers] for i in range(workers)]
    out = [None] * workers

    def go(i):
        out[i] = run_all(parts[i], time_limit)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    merged = [None] * len(todo)
    for i in range(workers):
        merged[i::workers] = out[i]
    return merged


def plan():
    """Every case: (qualname, argument, kind, bad label); and the targets without a baseline."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    instances = _instances()
    todo, no_baseline = [], {}
    for t in targets():
        try:
            for name, kind, label in cases(t, instances):
                todo.append((t.qualname, name, kind, label))
        except Exception as exc:  # noqa: BLE001
            no_baseline[t.qualname] = f"{type(exc).__name__}: {exc}"
    return todo, no_baseline


def module_of(qualname: str) -> str:
    parts = qualname.split(".")
    mods = {m.__name__ for m in public_modules()}
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in mods:
            return ".".join(parts[:k])
    return parts[0]


if __name__ == "__main__":
    t0 = time.time()
    todo, nob = plan()
    prefixes = [a for a in sys.argv[1:] if not a.startswith("-")]
    if prefixes:
        todo = [c for c in todo if any(c[0].startswith(p) for p in prefixes)]
    res = run_parallel(todo)
    counts = Counter(o for _, o, _ in res)
    print(f"{len({c[0] for c in todo})} callables, {len(todo)} cases, {time.time() - t0:.1f} s")
    print("outcomes:", dict(counts.most_common()))
    nob.update({c[0]: d for c, o, d in res if o == "no-baseline"})
    print(f"no baseline ({len(nob)}):")
    for q, why in sorted(nob.items()):
        print("  ", q, "--", why[:150])
    bymod = Counter((module_of(c[0]), o) for c, o, _ in res if o not in GOOD_OUTCOMES)
    print("failures by module:")
    for (m, o), k in sorted(bymod.items()):
        print(f"   {m:45s} {o:10s} {k}")
    if "-v" in sys.argv:
        for c, o, d in res:
            if o not in GOOD_OUTCOMES:
                print(o, c, d)
