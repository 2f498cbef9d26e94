"""Songs for the editor's browser tests, made as the process job leaves them: original audio, peaks,
the stored spectrogram (detector.features.logmel of the same audio, stored by songs.processing), a
revision, and model predictions; plus readers of what the page draws."""

from __future__ import annotations

import hashlib
import io
import re

import numpy as np
import soundfile as sf
from django.core.files.base import ContentFile

SR = 16000


def synth(duration: float, *, tone=(7.0, 9.0, 2000.0), seed: int = 0) -> np.ndarray:
    """A quiet drone with noise, and a loud `tone` = (start s, end s, Hz) burst."""
    t = np.arange(int(duration * SR)) / SR
    rng = np.random.default_rng(seed)
    y = 0.03 * np.sin(2 * np.pi * 110 * t) + 0.003 * rng.standard_normal(t.size)
    if tone:
        a, b, f = tone
        inside = (t >= a) & (t < b)
        y[inside] += 0.5 * np.sin(2 * np.pi * f * t[inside])
    return y.astype(np.float32)


def make_song(project, *, title="Lanes song", duration=20.0, user=None, segments=None, tone=(7.0, 9.0, 2000.0),
              spectrogram=True, seed=0):
    from annotations.services import revision_create
    from songs.models import Song, SongStatus
    from songs.peaks import PeakAccumulator, peaks_document, peaks_gzip
    from songs.processing import spectrogram_save

    from detector.config import DEFAULT_FEATURES
    from detector.features import logmel
    from detector.labels import Segment

    y = synth(duration, tone=tone, seed=seed)
    buf = io.BytesIO()
    sf.write(buf, y, SR, format="WAV", subtype="PCM_16")
    data = buf.getvalue()
    song = Song(project=project, title=title, original_name="song.wav", extension=".wav", size_bytes=len(data),
                sha256=hashlib.sha256(data + title.encode()).hexdigest(), duration=duration, sample_rate=SR,
                channels=1, codec="pcm_s16le", status=SongStatus.READY, created_by=user)
    song.original.save("original.wav", ContentFile(data), save=False)
    acc = PeakAccumulator()
    acc.push(y)
    song.peaks.save("peaks.json.gz", ContentFile(peaks_gzip(peaks_document(acc.finish(), duration=duration))),
                    save=False)
    song.save()
    if spectrogram:
        name = spectrogram_save(song=song, features=logmel(y, config=DEFAULT_FEATURES), config=DEFAULT_FEATURES,
                                duration=duration)
        Song.objects.filter(pk=song.pk).update(spectrogram=name)
        song.spectrogram.name = name
    segments = segments or [(0.0, 2.0, "non-vocal"), (2.0, 6.0, "vocal"), (6.0, duration, "non-vocal")]
    revision_create(song=song, segments=[Segment(a, b, lab) for a, b, lab in segments], author=None,
                    origin="model:test", based_on="current")
    return song


def add_prediction(song, *, name: str, high: tuple[float, float], project=None, level: float = 0.9):
    """A model version and its prediction on `song`: p = `level` inside `high` (seconds), 0.05 elsewhere."""
    from jobs.models import ModelKind, ModelVersion, Prediction

    model = ModelVersion.objects.create(project=project, name=name, kind=ModelKind.TARGET, checkpoint=f"m/{name}.pt")
    frames = int(round(song.duration * 100))
    probs = np.full(frames, 0.05, dtype=np.float16)
    probs[int(high[0] * 100):int(high[1] * 100)] = level
    npy = io.BytesIO()
    np.save(npy, probs)
    p = Prediction(song=song, model_version=model, hop=0.01, n_frames=frames, postprocess={"threshold": 0.5},
                   segments=[{"start": 0.0, "end": song.duration, "label": "non-vocal"}])
    p.probabilities.save(f"probs-{name}.npy", ContentFile(npy.getvalue()), save=False)
    p.save()
    return model


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
