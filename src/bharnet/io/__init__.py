"""Readers of the source formats: one module per format, each yielding :class:`bharnet.sequence.Sequence`
records, and the ``prepare_*`` functions that convert a whole data set into a store."""
