"""The training material on disk as :class:`~detector.remix.Pool` s: what each folder holds and its role.

    >>> pools = material_pools(material="var/material", stems="var/material/stems",
    ...                        source_corpus="var/corpus/source", cache_dir="var/cache")
    >>> train_set = RemixSet(**pools.train, config=RemixConfig())
    >>> pools.validation  # held-out clips (source corpus val + dev remixes), a FrameDataset

Roles:

- vocals: the ``train`` tracks' real vocal stems (``corpus stems``), real speech sung on melodies
  (``corpus sing-speech``) and synthetic singing (``corpus synth-speech``);
- accompaniments: the ``train`` tracks' accompaniments (mix - vocals), real recorded instrumental
  soundtracks (``scripts/get_instrumental_music.sh``: ``music-real/<package>``), music rendered from
  scores, plain and with a lead instrument in front (``corpus render-music [--lead]``);
- mixtures: the ``train`` tracks' mixes, the speech-over-music source corpus (``corpus source``), and,
  when training on songs, the songs themselves.

A file of ``music-real`` is held out for validation by a hash of its name (``HELDOUT_PERCENT``), so
validation hears soundtracks the model never trained on. Features are cached per front end under
``cache_dir`` (memory-mapped float16).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from detector.config import FeatureConfig
from detector.corpus.common import AUDIO_EXTS
from detector.corpus.stems import read_stems
from detector.data import FrameDataset, Labels, find_items
from detector.errors import DataError
from detector.remix import FRONT_ENDS, Pool

HELDOUT_PERCENT = 10.0

# share of each role's draws; a pool that is missing on disk is left out (the others keep their ratio)
ACCOMPANIMENT_WEIGHTS = {"stems": 2.0, "music-real": 4.0, "music21": 1.0, "lead": 1.5, "fillets": 0.5}
VOCAL_WEIGHTS = {"stems": 2.0, "sung-speech": 1.5, "synth-sing": 1.0}
#: synthetic singing (``corpus synth-speech``): sung phrases with exact endpoints, remixed as vocals
SYNTH_SING = ("synth/espeak-sing", "synth/festival-sing", "synth/espeak-vocables", "synth/festival-vocables")
#: real speech sung by Praat (``corpus sing-speech``)
SUNG_SPEECH = "synth/sung-speech"
MIXTURE_WEIGHTS = {"stems": 1.0, "source": 2.0, "songs": 3.0}


@dataclass
class MaterialPools:
    """Pools by role, ready for ``RemixSet(**pools.train)``, and held-out validation items."""

    mixtures: list[Pool] = field(default_factory=list)
    vocals: list[Pool] = field(default_factory=list)
    accompaniments: list[Pool] = field(default_factory=list)

    @property
    def train(self) -> dict[str, list[Pool]]:
        return {"mixtures": self.mixtures, "vocals": self.vocals, "accompaniments": self.accompaniments}


def front_end_configs(base: FeatureConfig | None = None) -> dict[str, FeatureConfig]:
    """The feature config of each front end, otherwise equal to ``base``."""
    from dataclasses import replace

    base = base or FeatureConfig()
    return {fe: replace(base, mix=fe) for fe in FRONT_ENDS}


def pool_from_items(
    name: str,
    items: Sequence[tuple[str, Path, Labels]],
    *,
    stereo: bool,
    weight: float = 1.0,
    cache_dir: str | Path | None = None,
    feature_config: FeatureConfig | None = None,
    progress: bool = False,
) -> Pool:
    """A pool of ``items`` (``(name, audio, labels)``, see :meth:`FrameDataset.from_items`) through both
    front ends when the material is stereo, through one when it is mono (they are equal there)."""
    configs = front_end_configs(feature_config)
    fes = FRONT_ENDS if stereo else ("mono",)
    datasets = {fe: FrameDataset.from_items(items, feature_config=configs[fe], cache_dir=cache_dir, source=name,
                                            progress=progress) for fe in fes}
    return Pool(name, datasets, weight)


def collection_pool(name: str, folder: str | Path, *, names: Sequence[str] | None = None, stereo: bool = True,
                    weight: float = 1.0, cache_dir=None, feature_config=None, progress=False) -> Pool:
    """A labelled collection (``<item>/audio.* + labels.lab``) as a mixture pool."""
    items = find_items(folder)
    if names is not None:
        keep = set(names)
        items = [it for it in items if it[0] in keep]
    return pool_from_items(name, items, stereo=stereo, weight=weight, cache_dir=cache_dir,
                           feature_config=feature_config, progress=progress)


def is_heldout(name: str, percent: float | None = None) -> bool:
    """Whether a material file is kept for validation (a stable hash of its name); ``percent``
    defaults to ``HELDOUT_PERCENT``."""
    percent = HELDOUT_PERCENT if percent is None else percent
    return int(hashlib.sha1(name.encode("utf-8")).hexdigest()[:8], 16) % 10000 < percent * 100


def music_files(folder: str | Path, *, heldout: bool) -> list[tuple[str, Path, Labels]]:
    """The instrumental files under ``folder`` (any depth) as items without a voice: the training
    share (``heldout=False``) or the validation share."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTS and p.is_file())
    rel = [str(p.relative_to(folder)) for p in files]
    return [(r, p, None) for r, p in zip(rel, files, strict=True) if is_heldout(r) == heldout]


def material_pools(
    *,
    material: str | Path | None = None,
    stems: str | Path | None = None,
    source_corpus: str | Path | None = None,
    songs: str | Path | None = None,
    song_names: Sequence[str] | None = None,
    cache_dir: str | Path | None = None,
    feature_config: FeatureConfig | None = None,
    progress: bool = False,
) -> MaterialPools:
    """Every pool the folders given hold (layout in the module docstring); ``songs`` (a labelled
    collection, ``song_names`` of it) joins the mixtures."""
    kw = {"cache_dir": cache_dir, "feature_config": feature_config, "progress": progress}
    pools = MaterialPools()
    if stems is not None:
        stems = Path(stems)
        train = [r["track"] for r in read_stems(stems) if r["split"] == "train"]
        lab = {t: stems / t / "labels.lab" for t in train}
        pools.vocals.append(pool_from_items("stems:vocals", [(t, stems / t / "vocals.flac", lab[t]) for t in train],
                                            stereo=True, weight=VOCAL_WEIGHTS["stems"], **kw))
        pools.accompaniments.append(pool_from_items(
            "stems:accompaniment", [(t, stems / t / "accompaniment.flac", None) for t in train], stereo=True,
            weight=ACCOMPANIMENT_WEIGHTS["stems"], **kw))
        pools.mixtures.append(pool_from_items("stems:mix", [(t, stems / t / "mix.flac", lab[t]) for t in train],
                                              stereo=True, weight=MIXTURE_WEIGHTS["stems"], **kw))
    if material is not None:
        material = Path(material)
        real = material / "music-real"
        if real.is_dir():
            items = [it for pkg in sorted(p for p in real.iterdir() if p.is_dir())
                     for it in music_files(pkg, heldout=False)]
            items = [(f"music-real/{n}", p, lab) for n, p, lab in items]
            if items:
                pools.accompaniments.append(pool_from_items("music-real", items, stereo=True,
                                                            weight=ACCOMPANIMENT_WEIGHTS["music-real"], **kw))
        sung = [(str(p.relative_to(material)), p, p.with_suffix(".lab")) for sub in SYNTH_SING
                if (material / sub).is_dir() for p in sorted((material / sub).glob("*.wav"))
                if p.with_suffix(".lab").is_file()]
        if sung:
            pools.vocals.append(pool_from_items("synth-sing", sung, stereo=False, weight=VOCAL_WEIGHTS["synth-sing"],
                                                **kw))
        real_sung = [(str(p.relative_to(material)), p, p.with_suffix(".lab"))
                     for p in sorted((material / SUNG_SPEECH).glob("*.wav")) if p.with_suffix(".lab").is_file()]
        if real_sung:
            pools.vocals.append(pool_from_items("sung-speech", real_sung, stereo=False,
                                                weight=VOCAL_WEIGHTS["sung-speech"], **kw))
        for sub, key in (("music/music21", "music21"), ("music/lead", "lead"), ("music/fillets", "fillets")):
            folder = material / sub
            if folder.is_dir() and (items := music_files(folder, heldout=False)):
                pools.accompaniments.append(pool_from_items(sub, items, stereo=False,
                                                            weight=ACCOMPANIMENT_WEIGHTS[key], **kw))
    if source_corpus is not None:
        pools.mixtures.append(collection_pool("source", Path(source_corpus) / "train", stereo=False,
                                              weight=MIXTURE_WEIGHTS["source"], **kw))
    if songs is not None:
        pools.mixtures.append(collection_pool("songs", songs, names=song_names, stereo=True,
                                              weight=MIXTURE_WEIGHTS["songs"], **kw))
    if not (pools.mixtures or pools.vocals or pools.accompaniments):
        raise DataError("no training material: give material, stems, source_corpus or songs")
    return pools


def validation_set(
    *,
    suite: str | Path,
    stems: str | Path | None = None,
    material: str | Path | None = None,
    extra: Sequence[str | Path] = (),
    part: str = "dev",
    feature_config: FeatureConfig | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> FrameDataset:
    """The items a training run validates on: every condition of the robustness suite's ``part``
    (:mod:`detector.suite`, built from ``stems`` and ``material`` when missing), plus the labelled
    collections in ``extra``; item names are prefixed with their condition or folder."""
    import json

    from detector.suite import build_suite

    existing = Path(suite) / "suite.json"  # a suite built with songs too has the same dev part
    index = json.loads(existing.read_text()) if existing.is_file() else build_suite(out=suite, stems=stems,
                                                                                  material=material)
    parts = []
    for condition in index["parts"].get(part, {}):
        ds = FrameDataset.from_collection(Path(suite) / part / condition, feature_config=feature_config,
                                          cache_dir=cache_dir, progress=progress)
        parts.append((condition, ds))
    for folder in extra:
        ds = FrameDataset.from_collection(folder, feature_config=feature_config, cache_dir=cache_dir, progress=progress)
        parts.append((Path(folder).name, ds))
    if not parts:
        raise DataError(f"no validation items: the suite {str(suite)!r} has no {part} part and no extra collection")
    return FrameDataset.concat(parts)
