"""BodyHand-Synth, the built-in synthetic body-and-hand data set: its classes, how samples vary,
the generator, the colour rendering and the writing of its stores (docs/synthetic.md)."""
