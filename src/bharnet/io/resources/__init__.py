"""Small data files shipped with the readers."""
