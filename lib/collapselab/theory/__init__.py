"""Closed forms and bounds; each docstring names the theorem it states."""
from . import gaussian, regression

__all__ = ["gaussian", "regression"]
