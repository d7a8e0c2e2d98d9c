"""Closed forms and bounds; each docstring names the theorem it states."""
from . import contraction, gaussian, regression

__all__ = ["contraction", "gaussian", "regression"]
