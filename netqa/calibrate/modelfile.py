"""Alias of :mod:`netqa.io.modelfile`, where the tuned-model format now lives (below every stage that reads it)."""

from netqa.io.modelfile import *  # noqa: F401,F403
from netqa.io.modelfile import __all__  # noqa: F401
