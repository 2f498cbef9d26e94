"""The pieces of a song's processing that need no model: a browser-playable rendition when the
original is not one, the stored spectrogram and the signature. The `process` job that runs them
(with detection) is jobs.processing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from detector.audio import AudioInfo, stream
from songs.files import song_dir
from songs.models import Song
from songs.spectrogram import spectrogram_bytes

# (container, codec) Chromium's <audio> plays as is; everything else gets a FLAC rendition.
PLAYABLE = {
    ("wav", "pcm_s16"), ("wav", "pcm_s24"), ("wav", "pcm_s32"), ("wav", "pcm_f32"), ("wav", "pcm_u8"),
    ("flac", "pcm_s16"), ("flac", "pcm_s24"), ("flac", "pcm_s8"), ("flac", "flac"),
    ("ogg", "vorbis"), ("ogg", "opus"), ("ogg", "flac"), ("mp3", "mp3"), ("mp4", "aac"), ("mp4", "mp3"),
    ("matroska", "opus"), ("matroska", "vorbis"),
}
MAX_PLAYABLE_RATE = 192_000


def needs_rendition(info: AudioInfo) -> bool:
    return (info.container, info.codec) not in PLAYABLE or info.sample_rate > MAX_PLAYABLE_RATE or info.channels > 2


def rendition_make(src: Path, dest: Path, *, info: AudioInfo) -> None:
    """Write a FLAC Chromium plays: same rate (<= 192 kHz), 16 or 24 bit, stereo for a stereo file and
    mono otherwise (more than two channels have no known layout: their mix). Decoded by the decoder
    upload validation and detection use (detector.audio.stream), so whatever was accepted renders --
    FFmpeg's own resampler refuses channel counts it has no layout for (9, 17, 32, 64 ...). Streams
    block by block."""
    import soundfile as sf

    stereo = info.channels == 2
    rate = min(info.sample_rate, MAX_PLAYABLE_RATE)
    subtype = "PCM_16" if info.codec in ("pcm_s16", "pcm_u8", "pcm_s8", "mp3", "aac", "vorbis", "opus") else "PCM_24"
    with sf.SoundFile(str(dest), "w", samplerate=rate, channels=2 if stereo else 1, format="FLAC",
                      subtype=subtype) as out:
        for block in stream(src, sr=rate, info=info, stereo=stereo, max_duration=settings.MAX_AUDIO_MINUTES * 60):
            out.write(np.clip(block, -1.0, 1.0))


def signature_values(features: np.ndarray) -> list[float]:
    """The song's signature (detector.priority.signature of its log-mel features) as stored: a list of
    2 x n_mels floats."""
    from detector.priority import signature

    return [round(float(v), 4) for v in signature(features)]


def spectrogram_save(*, song: Song, features: np.ndarray, config, duration: float) -> str:
    """Store the log-mel ``features`` as the song's spectrogram file; returns the storage name."""
    data = spectrogram_bytes(features, config=config, duration=duration)
    return default_storage.save(f"{song_dir(song)}/spectrogram.bin", ContentFile(data))
