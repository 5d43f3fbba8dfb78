"""Workflows that combine the layers below into one job: the demo, ablations, the paper's
recipes (``reproduce``), prediction on videos, live recognition from a camera and recording
your own gestures."""
