"""The detector's error hierarchy.

Every message is one line that names the bad value (file, field, line) and the reason, so the CLI
and the web platform can show it to a person as is.
"""


class DetectorError(Exception):
    """Base class of every error the detector raises on purpose."""


class AudioError(DetectorError):
    """An audio file cannot be used: not audio, truncated, empty, absurd header, too long."""


class AudioTooLong(AudioError):
    """An audio file is longer than the caller's limit (``max_duration``)."""


class FormatError(DetectorError):
    """An annotation (segments) file or value is malformed."""


class DataError(DetectorError, ValueError):
    """A collection that cannot be read (missing folder, no items, an item without labels)."""


class TrainingCancelled(DetectorError):
    """Raised when the progress callback asks to stop; ``.state_path`` can resume the run."""

    def __init__(self, message: str, *, state_path: str | None = None, epoch: int = 0) -> None:
        super().__init__(message)
        self.state_path = state_path
        self.epoch = epoch


class CorpusError(DetectorError, ValueError):
    """A bad corpus input (missing folder, no audio, bad range); the message names the value."""


class CheckpointError(DetectorError):
    """A checkpoint file is unreadable, incomplete or does not match what the caller expects."""


class NoDefaultModelError(DetectorError):
    """No model was given and no default model is installed."""
