"""Video: the side convention of skeletons and hands read from RGB frames, and the hand search."""
