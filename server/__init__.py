"""Mashang (码上安全): an offline-first safety-inspection platform for the small shops of a sub-district."""

__version__ = "0.1.0"
