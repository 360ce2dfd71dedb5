"""The mobile member portal: a small Flask core with pluggable modules.

Build an application with :func:`create_app`; plugins talk to the core through
:mod:`portal.toolkit` and the hooks in :mod:`portal.plugins.hookspecs`.
"""
from portal.app import create_app

__all__ = ["create_app"]
__version__ = "0.1.0"
