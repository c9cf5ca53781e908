"""The package version, importable from any layer (run directories and sweeps record it)."""

__version__ = "0.2.0"
