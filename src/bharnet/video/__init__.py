"""Everything that reads RGB video: decoding, the skeleton of a video, hands, and the ST-ROI images of
the RGB stream. Nothing here imports ``av``, ``mediapipe`` or ``PIL`` at import time."""
