"""A tiny package for the hermetic build tests (see ../../README.md)."""

from greeter.core import greet

__all__ = ["greet"]
