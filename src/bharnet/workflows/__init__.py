"""Workflows that combine the layers below into one job: the demo, ablations, the paper's
recipes (``reproduce``) and prediction on videos."""
