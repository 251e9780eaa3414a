"""Catalog records, parsers and snapshots."""

from kizuna.catalog.elements import ElementSet, SpaceObject

__all__ = ["ElementSet", "SpaceObject"]
