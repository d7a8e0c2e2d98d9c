"""Closed forms and bounds; each docstring names the theorem it states."""
from . import contamination, contraction, gaussian, kde, regression

__all__ = ["contamination", "contraction", "gaussian", "kde", "regression"]
