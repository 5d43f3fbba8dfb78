"""Evaluation: scores files, ensembles, metrics, class subsets, reports, plots, perturbations."""
