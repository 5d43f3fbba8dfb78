"""BHaRNet: body-hand expertized networks for fine-grained skeleton action recognition."""

__version__ = "0.1.0"
