"""Skeleton backbones, one family per module; importing this package registers them."""

from bharnet.models.backbones import ctrgcn, degcn, stgcn  # noqa: F401  (registers the backbones)
