"""BodyHand-Synth, the built-in synthetic body-and-hand data set (docs/synthetic.md), whole:

- what there is to make: the classes (:mod:`.classes`; the object classes, :mod:`.objects`) and
  how samples vary (:mod:`.variation`);
- the generator (:mod:`.generate`): a kinematic body and its actors (:mod:`.body`) that move
  (:mod:`.motions`), a finger model and its gestures (:mod:`.hand`), the cameras (:mod:`.camera`),
  the samples of a class with a body (:mod:`.scene`) or of a hand-only class (:mod:`.air`), on
  shared maths (:mod:`.geometry`, :mod:`.curves`) and one record of a batch (:mod:`.batch`);
- its colour frames and ST-ROI images (:mod:`.render`) and its stores (:mod:`.store`).

It sits above :mod:`bharnet.store` and :mod:`bharnet.video` (it writes stores and cuts ST-ROI
images) and beside :mod:`bharnet.data`; the engine generates a run's store with it.
"""
