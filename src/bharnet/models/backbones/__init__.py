"""Skeleton backbones, one family per module; importing this package registers them."""

from . import ctrgcn, degcn, stgcn  # noqa: F401  (registration)
from .base import SkeletonBackbone

#: names of the registered backbones (models that take one skeleton tensor)
BACKBONES = ("degcn", "ctrgcn", "stgcn")

__all__ = ["SkeletonBackbone", "BACKBONES"]
