"""Closed forms and bounds; each docstring names the theorem it states."""
from . import categorical, contamination, contraction, gaussian, kde, mixture, monitoring, regression

__all__ = ["categorical", "contamination", "contraction", "gaussian", "kde", "mixture", "monitoring", "regression"]
