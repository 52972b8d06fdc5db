"""Deterministic synthetic test world: terrain, clutter, network, drives, regions, complaints.

``python -m netqa.testworld --out testdata --seed 7`` regenerates the committed
``testdata/`` byte for byte.  The truth model (:mod:`netqa.testworld.truth`) is
independent of :mod:`propagation`; ``truth.json`` records all its parameters.
"""

from netqa.testworld.config import GENERATOR_VERSION, WorldConfig, small_config
from netqa.testworld.generate import generate_world

__all__ = ["GENERATOR_VERSION", "WorldConfig", "generate_world", "small_config"]
