"""Skeleton backbones, one family per module; importing this package registers them."""

from . import ctrgcn, degcn, stgcn  # noqa: F401  (registration)
from .base import SkeletonBackbone

__all__ = ["SkeletonBackbone"]
