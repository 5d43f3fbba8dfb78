"""The engine: the run config schema, the Lightning module and data module, training, testing and checkpoints."""
