"""Prompt API: the package every function imports from its Lambda layer."""

__version__ = "1.0.0"
