"""Batch generative models: each simulates many replicate chains at once."""
from .base import BatchModel
from .regression import LinearRegression, RegressionParams, RegressionStats
from .categorical import Categorical, zipf_probs
from .mixture import GaussianMixture1D, MixtureData, MixtureParams
from .kde import GaussianKDE, KDEParams, KDEStats
from .contaminated import KnownVarianceGaussian1D
from .tempered import TemperedGaussian1D, TemperedParams
from .gaussian import Gaussian1D, GaussianMV, GaussStats1D, GaussStatsMV, Normal1DParams, NormalParams

__all__ = ["BatchModel", "Gaussian1D", "GaussianMV", "Normal1DParams", "NormalParams",
           "GaussStats1D", "GaussStatsMV", "LinearRegression", "RegressionParams", "RegressionStats", "TemperedGaussian1D", "TemperedParams", "KnownVarianceGaussian1D", "GaussianKDE", "KDEParams", "KDEStats", "Categorical", "zipf_probs", "GaussianMixture1D", "MixtureData", "MixtureParams"]
