"""Hand extraction from RGB video: body-guided crops, MediaPipe's hand landmarker, left/right
assignment by the body's wrists, tracking and gap interpolation (``bharnet extract-hands``).

Nothing here imports ``mediapipe``, ``av`` or ``cv2`` at import time: they are loaded when a
video is processed, so training never needs them.
"""
