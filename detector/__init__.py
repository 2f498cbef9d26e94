"""Singscope's singing-voice detector: audio -> log-mel -> CRNN -> frame probabilities -> segments.

Pure Python + numpy + PyTorch + librosa; never imports django or celery. Import the modules you
need (``detector.audio``, ``detector.features``, ``detector.model``, ``detector.inference`` ...);
importing the package itself is light.
"""

__version__ = "0.1.0"
