"""Songs for the editor's browser tests, made as the process job leaves them: original audio, peaks,
the stored spectrogram (detector.features.logmel of the same audio, stored by songs.processing), a
revision, and model predictions; plus readers of what the page draws."""

from __future__ import annotations

import re

import numpy as np
from audio_fixtures import noise, sine, wav_bytes
from django.core.files.base import ContentFile
from factories import PredictionFactory, SongFactory


def synth(duration: float, *, tone=(7.0, 9.0, 2000.0), seed: int = 0) -> np.ndarray:
    """A quiet drone with noise, and a loud `tone` = (start s, end s, Hz) burst."""
    y = sine(duration, freq=110.0, amplitude=0.03) + noise(duration, amplitude=0.003, seed=seed)
    if tone:
        a, b, f = tone
        y = y + sine(duration, freq=f, amplitude=0.5, spans=[(a, b)])
    return y


def make_song(project, *, title="Lanes song", duration=20.0, user=None, segments=None, tone=(7.0, 9.0, 2000.0),
              spectrogram=True, seed=0, signal=None):
    """A stored song (``signal``, or synth(duration, tone, seed)) with its peaks, optionally its
    stored spectrogram, and a model revision (``segments``, default vocal 2-6 s)."""
    from songs.models import Song
    from songs.peaks import PeakAccumulator, peaks_document, peaks_gzip
    from songs.processing import spectrogram_save

    from detector.config import DEFAULT_FEATURES
    from detector.features import logmel

    y = synth(duration, tone=tone, seed=seed) if signal is None else signal
    acc = PeakAccumulator()
    acc.push(y)
    peaks = ContentFile(peaks_gzip(peaks_document(acc.finish(), duration=duration)), name="peaks.json.gz")
    segments = segments or [(0.0, 2.0, "non-vocal"), (2.0, 6.0, "vocal"), (6.0, duration, "non-vocal")]
    song = SongFactory(project=project, title=title, original_name="song.wav", duration=duration, created_by=user,
                       audio=wav_bytes(y), peaks=peaks, revision=segments, revision__author=None,
                       revision__origin="model:test")
    if spectrogram:
        name = spectrogram_save(song=song, features=logmel(y, config=DEFAULT_FEATURES), config=DEFAULT_FEATURES,
                                duration=duration)
        Song.objects.filter(pk=song.pk).update(spectrogram=name)
        song.spectrogram.name = name
    return song


def add_prediction(song, *, name: str, high: tuple[float, float], project=None, level: float = 0.9):
    """A model version and its prediction on `song`: p = `level` inside `high` (seconds), 0.05 elsewhere."""
    probs = np.full(int(round(song.duration * 100)), 0.05, dtype=np.float16)
    probs[int(high[0] * 100):int(high[1] * 100)] = level
    return PredictionFactory(song=song, model_version__project=project, model_version__name=name, probabilities=probs,
                             segments=[{"start": 0.0, "end": song.duration, "label": "non-vocal"}]).model_version


def open_editor(page, live_server, song):
    page.goto(f"{live_server.url}/projects/{song.project_id}/songs/{song.pk}/")
    page.wait_for_selector('#editor[data-state="ready"]', timeout=30000)


TIME = re.compile(r"^(?:(\d+):)?(\d+):(\d{2}(?:\.\d+)?)$")


def seconds(text: str) -> float:
    """Seconds from the editor's one time format (m:ss[.fff], h:mm:ss[.fff]); fails on anything else."""
    m = TIME.match(text.strip())
    assert m, f"{text!r} is not in the m:ss time format"
    return (int(m.group(1) or 0) * 3600) + int(m.group(2)) * 60 + float(m.group(3))


def wave_geometry(page) -> dict:
    """Wavesurfer's own numbers: the visible area's left edge and width (client px), its scroll offset
    and the px/s of its wrapper (the width wavesurfer maps clicks and hovers with: the wrapper's box,
    not its scrollWidth, which grows when something overflows it), and the duration."""
    return page.evaluate("""() => {
        const ws = window.__ws, host = document.getElementById('waveform').getBoundingClientRect()
        const duration = ws.getDuration()
        return {left: host.left, top: host.top, height: host.height, width: ws.getWidth(), scroll: ws.getScroll(),
                pps: ws.getWrapper().getBoundingClientRect().width / duration, duration}
    }""")


def time_at(geo: dict, client_x: float) -> float:
    """The time wavesurfer puts at a client x: scroll offset + distance from the visible left edge."""
    return (client_x - geo["left"] + geo["scroll"]) / geo["pps"]


def x_of(geo: dict, t: float) -> float:
    return geo["left"] + t * geo["pps"] - geo["scroll"]


def canvas_pixels(page, selector: str) -> dict:
    """{w, h, dpr, left, top, width, height, data: [r, g, b, a, ...]} of a canvas as drawn."""
    return page.evaluate("""(sel) => {
        const c = document.querySelector(sel), r = c.getBoundingClientRect()
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
        return {w: c.width, h: c.height, left: r.left, top: r.top, width: r.width, height: r.height,
                data: Array.from(d)}
    }""", selector)


def as_array(pix: dict) -> np.ndarray:
    return np.array(pix["data"], dtype=np.uint8).reshape(pix["h"], pix["w"], 4)
