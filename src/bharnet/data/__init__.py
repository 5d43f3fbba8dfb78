"""The dataset over a store and the sample view: transforms, modalities, reproducible sampling."""
