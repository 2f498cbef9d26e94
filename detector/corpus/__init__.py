"""Training material whose labels come for free, and the corpora built from it.

One module per concern:

- :mod:`~detector.corpus.common`: material indexes, audio reading, song-like effects (pitch shift,
  vibrato, reverb, loudness), a worker pool;
- :mod:`~detector.corpus.speech`: speech and sung phrases from espeak-ng and festival
  (``corpus synth-speech``);
- :mod:`~detector.corpus.music`: instrumental music rendered from the music21 corpus with
  fluidsynth (``corpus render-music``);
- :mod:`~detector.corpus.mixing`: the paper's source corpus, speech over instrumental music
  (``corpus source``);
- :mod:`~detector.corpus.stems`: real singing as separate vocal stems over real accompaniment, and
  real instrumental recordings (``corpus stems``), remixed in the feature domain at training time
  (:mod:`detector.remix`).

Corpus layout written by :func:`build_source_corpus` (a labelled collection, the layout of
``shared/data/jamendolyrics``, so ``train`` and ``transfer`` read it alike)::

    OUT/corpus.json               config, sources (with licences), totals
    OUT/manifest.jsonl            one JSON object per clip, in clip order
    OUT/train/<clip>/audio.wav    16 kHz mono PCM16
    OUT/train/<clip>/labels.lab   start<TAB>end<TAB>sing (vocal spans, seconds, 3 decimals)
    OUT/val/<clip>/...            held-out clips built from held-out speech and music files
"""

from detector.corpus.common import AUDIO_EXTS, SAMPLE_RATE, MusicFile, SpeechFile, index_music, index_speech
from detector.corpus.mixing import MixConfig, build_source_corpus, read_manifest
from detector.corpus.music import FORBIDDEN_PROGRAMS, SOUNDFONT, music21_score_paths, render_music
from detector.corpus.speech import load_texts, synthesize_speech
from detector.errors import CorpusError

__all__ = [
    "AUDIO_EXTS",
    "SAMPLE_RATE",
    "MixConfig",
    "SpeechFile",
    "MusicFile",
    "CorpusError",
    "index_speech",
    "index_music",
    "build_source_corpus",
    "read_manifest",
    "synthesize_speech",
    "load_texts",
    "render_music",
    "music21_score_paths",
    "FORBIDDEN_PROGRAMS",
    "SOUNDFONT",
]
