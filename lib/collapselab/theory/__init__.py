"""Closed forms and bounds; each docstring names the theorem it states."""
from . import gaussian

__all__ = ["gaussian"]
