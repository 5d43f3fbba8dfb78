"""Skeletons from RGB video: decoding (:mod:`.decode`), MediaPipe's pose and hand landmarkers and
their model files, hand extraction (:mod:`.hands`, ``bharnet extract-hands``) with a tracked
region per hand (:mod:`.search`), one left/right convention on every path (:mod:`.sides`),
tracking and gap interpolation, hands files, contact sheets (:mod:`.preview`), a video's whole
skeleton for prediction (:mod:`.skeleton`), and the ST-ROI images of the RGB stream
(:mod:`.st_roi`, many videos: :mod:`.roi_files`, ``bharnet extract-roi``); both batch extractions
run on :mod:`.batch` (one output file per video, shards, resume).

Nothing here imports ``mediapipe``, ``av``, ``cv2`` or ``PIL`` at import time: they are loaded when
a video is processed, so training never needs them.
"""
