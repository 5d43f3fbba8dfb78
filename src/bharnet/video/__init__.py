"""Skeletons from RGB video: decoding (:mod:`.decode`), MediaPipe's pose and hand landmarkers
(:mod:`.landmarker`) and their model files, hand extraction (one video: :mod:`.hands`, many:
:mod:`.hands_batch`, ``bharnet extract-hands``; its settings: :mod:`.extract_config`) from the
people of a video (:mod:`.people`), a guide to each one's hands (:mod:`.body_guide`) and the
frame-by-frame hand search (:mod:`.frame_hands`) with a tracked region per hand (:mod:`.search`),
one left/right convention on every path (:mod:`.sides`), tracking and gap interpolation, hands
files, contact sheets (:mod:`.preview`), a video's whole skeleton for prediction (:mod:`.skeleton`),
the live loop (:mod:`.live_loop`), and the ST-ROI images of the RGB stream (:mod:`.st_roi`, many
videos: :mod:`.roi_files`, ``bharnet extract-roi``); both batch extractions run on :mod:`.batch`
(one output file per video, shards, resume).

Nothing here imports ``mediapipe``, ``av``, ``cv2`` or ``PIL`` at import time: they are loaded when
a video is processed, so training never needs them.
"""
