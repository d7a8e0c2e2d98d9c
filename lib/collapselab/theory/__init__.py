"""Closed forms and bounds; each docstring names the theorem it states."""
from . import (categorical, contamination, contraction, curation, error_types, gaussian, kde,
               mixture, monitoring, pca_gaussian, regression, subsample)

__all__ = ["categorical", "contamination", "contraction", "curation", "error_types", "gaussian",
           "kde", "mixture", "monitoring", "pca_gaussian", "regression", "subsample"]
