"""Batch generative models: each simulates many replicate chains at once."""
from .base import BatchModel
from .regression import LinearRegression, RegressionParams, RegressionStats
from .categorical import Categorical, zipf_probs
from .mixture import GaussianMixture1D, MixtureData, MixtureParams
from .curated import (Curated, categorical_logprob, gaussian_loglik, rejection_toward,
                      truth_oracle)
from .pca_gaussian import PCAGaussian, PCAGaussianParams, PCAStats
from .sampling_bias import BiasedCategorical, CategoricalBias
from .kde import GaussianKDE, KDEParams, KDEStats, PowerBandwidth
from .empirical import Empirical, EmpiricalParams, PoolStats
from .contaminated import KnownVarianceGaussian1D
from .tempered import Tempered, TemperedGaussian1D
from .gaussian import Gaussian1D, GaussianMV, GaussStats1D, GaussStatsMV, Normal1DParams, NormalParams

__all__ = ["BatchModel", "Gaussian1D", "GaussianMV", "Normal1DParams", "NormalParams",
           "GaussStats1D", "GaussStatsMV", "LinearRegression", "RegressionParams", "RegressionStats", "TemperedGaussian1D", "Tempered", "KnownVarianceGaussian1D", "GaussianKDE", "KDEParams", "KDEStats", "Categorical", "zipf_probs", "GaussianMixture1D", "MixtureData", "MixtureParams", "Curated", "gaussian_loglik",
           "truth_oracle", "rejection_toward", "categorical_logprob", "PCAGaussian", "PCAGaussianParams", "PCAStats", "BiasedCategorical", "CategoricalBias",
           "Empirical", "EmpiricalParams", "PoolStats", "PowerBandwidth"]
