"""Datasets, transforms and the built-in synthetic dataset."""
