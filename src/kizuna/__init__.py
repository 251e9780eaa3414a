"""Kizuna: allied space domain awareness and decision support.

Start with :mod:`kizuna.api`; the command line is ``kizuna --help``.
"""

__version__ = "0.1.0"
