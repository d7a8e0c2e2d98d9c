"""collapselab: the simulator library of the book *Model Collapse, Contamination and Stability*.

One recursive-training loop (:func:`run_loop`), batch models, data schedules, metrics,
closed-form theory and a plotting style, shared by every chapter.
"""
from . import checks, compare, datasets, diagrams, metrics, models, monitoring, phase, plotting, schedules, sources, sweep, theory, widgets
from .loop import Trajectory, run_loop
from .models import Categorical, Gaussian1D, GaussianKDE, GaussianMixture1D, GaussianMV, LinearRegression
from .schedules import (Schedule, accumulate, accumulate_mix, accumulate_subsample, all_real, inject,
                        mix, replace)
from .sources import DriftingTruth, FixedSample, OwnSampler, RealSource, Sampler, Truth
from .sweep import run_sweep
from . import crt, rates, wasserstein
from ._validate import limits

__version__ = "0.1.0"

__all__ = ["run_loop", "Trajectory", "Categorical", "Gaussian1D", "GaussianMV", "GaussianKDE", "GaussianMixture1D", "LinearRegression", "Schedule", "replace",
           "accumulate", "accumulate_mix", "accumulate_subsample", "mix", "inject", "all_real", "metrics", "models",
           "plotting", "schedules", "sweep", "run_sweep", "theory", "diagrams", "widgets", "monitoring", "datasets", "phase", "compare", "checks",
           "sources", "RealSource", "Truth", "FixedSample", "DriftingTruth", "Sampler", "OwnSampler",
           "crt", "rates", "wasserstein", "limits"]
