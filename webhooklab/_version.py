"""The version, in a module of its own: the package and its parts read it without importing the package."""

__version__ = "0.1.0"
