"""Skeletons from RGB video: decoding (:mod:`.decode`), MediaPipe's pose and hand landmarkers and
their model files, hand extraction with body-guided crops, left/right assignment by the body's
wrists, tracking and gap interpolation (:mod:`.hands`, ``bharnet extract-hands``), hands files,
and a video's whole skeleton for prediction (:mod:`.skeleton`).

Nothing here imports ``mediapipe``, ``av`` or ``cv2`` at import time: they are loaded when a
video is processed, so training never needs them.
"""
