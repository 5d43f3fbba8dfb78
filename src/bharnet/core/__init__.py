"""The shared vocabulary every layer speaks: skeleton layouts, the :class:`Sequence` record,
the user-facing error and atomic file writes. Imports nothing else of the package."""
