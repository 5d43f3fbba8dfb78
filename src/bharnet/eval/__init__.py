"""Evaluation: scores files, ensembles, metrics, class subsets, reports, plots, perturbations."""

from .ensemble import EnsembleResult, ensemble, fuse, search_weights
from .scores import Scores, load_scores, save_scores

__all__ = ["Scores", "save_scores", "load_scores", "ensemble", "fuse", "search_weights", "EnsembleResult"]
