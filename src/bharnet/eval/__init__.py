"""Evaluation: scores files, ensembles, metrics, class subsets, reports, plots, perturbations."""

from bharnet.eval.ensemble import EnsembleResult, ensemble, fuse, search_weights
from bharnet.eval.scores import Scores, load_scores, save_scores

__all__ = ["Scores", "save_scores", "load_scores", "ensemble", "fuse", "search_weights", "EnsembleResult"]
