"""Batch generative models: each simulates many replicate chains at once."""
from .base import BatchModel
from .regression import LinearRegression, RegressionParams, RegressionStats
from .categorical import Categorical, zipf_probs
from .mixture import GaussianMixture1D, MixtureData, MixtureParams
from .curated import (Curated, categorical_logprob, curated_loop, gaussian_loglik, real_stats_for,
                      rejection_toward, truth_oracle)
from .pca_gaussian import PCAGaussian, PCAGaussianParams, PCAStats
from .sampling_bias import BiasedCategorical, BiasedParams
from .kde import GaussianKDE, KDEParams, KDEStats, PowerBandwidth
from .empirical import Empirical, EmpiricalParams, PoolStats
from .contaminated import KnownVarianceGaussian1D
from .tempered import TemperedGaussian1D, TemperedParams
from .gaussian import Gaussian1D, GaussianMV, GaussStats1D, GaussStatsMV, Normal1DParams, NormalParams

__all__ = ["BatchModel", "Gaussian1D", "GaussianMV", "Normal1DParams", "NormalParams",
           "GaussStats1D", "GaussStatsMV", "LinearRegression", "RegressionParams", "RegressionStats", "TemperedGaussian1D", "TemperedParams", "KnownVarianceGaussian1D", "GaussianKDE", "KDEParams", "KDEStats", "Categorical", "zipf_probs", "GaussianMixture1D", "MixtureData", "MixtureParams", "Curated", "curated_loop", "real_stats_for", "gaussian_loglik",
           "truth_oracle", "rejection_toward", "categorical_logprob", "PCAGaussian", "PCAGaussianParams", "PCAStats", "BiasedCategorical", "BiasedParams",
           "Empirical", "EmpiricalParams", "PoolStats", "PowerBandwidth"]
