"""factory_boy factories for the platform's rows: the one place the tests build users, projects,
memberships, songs, annotation revisions, model versions, predictions, jobs and reports.

Each factory goes through the service the platform itself uses where one exists (``create_user``,
``project_create``, ``membership_set``, ``revision_create``), so a row is what the app would make.

    user = UserFactory(username="ana")                       # password: PASSWORD
    project = ProjectFactory(created_by=user)                # its creator is its admin
    member(project, "reviewer", "rita")                      # a new user with that role
    SongFactory(project=project)                             # a ready row, no file in storage
    SongFactory(project=project, audio=wav)                  # ... with `wav` (bytes) as its original
    SongFactory(project=project, revision=[(0, 4, "non-vocal"), (4, 10, "vocal")], revision__state="verified")
    SungSongFactory(project=project, seed=2)                 # stored synthetic song + verified revision
    songs_by_split(project, user)                            # 2 train, 1 validation, 1 test SungSongs
    RevisionFactory(song=song, segments=[(0, 4, "vocal")], state="submitted")
    ModelVersionFactory(project=project)                     # a registry row, no checkpoint file
    TinyModelFactory(project=project)                        # a tiny random CRNN in storage (trains in s)
    ActiveModelFactory(project=project)                      # full-size random CRNN, the active model
    PredictionFactory(song=song, model_version=model, probabilities=probs)
    JobFactory(project=project, kind="detect"); ReportFactory(model_version=model)

Signals and file formats come from audio_fixtures, random-weight CRNN bundles from model_fixtures.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import uuid
from pathlib import Path

import audio_fixtures
import factory
import numpy as np
from django.core.files.base import ContentFile
from factory.django import DjangoModelFactory
from model_fixtures import BUNDLES

PASSWORD = "correct horse battery"


# -- segments -------------------------------------------------------------------------------------


def as_segments(spec) -> list:
    """``detector.labels.Segment``s from (start, end, label) tuples, dicts or Segments."""
    from detector.labels import Segment

    out = []
    for s in spec:
        if isinstance(s, Segment):
            out.append(s)
        elif isinstance(s, dict):
            out.append(Segment.from_dict(s))
        else:
            out.append(Segment(*s))
    return out


def spans_to_segments(spans, *, duration: float) -> list:
    """A full partition of [0, duration]: ``spans`` = [(start, end), ...] vocal, the rest non-vocal."""
    from detector.labels import intervals_to_segments

    return intervals_to_segments(spans, duration=duration)


# -- accounts -------------------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"user{n}")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class._default_manager.create_user(*args, **kwargs)


class ProjectFactory(DjangoModelFactory):
    """Through ``project_create``: the creator becomes the first admin, the activity log says so."""

    class Meta:
        model = "accounts.Project"

    name = factory.Sequence(lambda n: f"Project {n}")
    created_by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *, name, created_by, **fields):
        from accounts.services import project_create

        project = project_create(name=name, created_by=created_by)
        if fields:
            for key, value in fields.items():
                setattr(project, key, value)
            project.save(update_fields=list(fields))
        return project


class MembershipFactory(DjangoModelFactory):
    """Through ``membership_set`` (update or create): ``MembershipFactory(project=p, role="reviewer").user``."""

    class Meta:
        model = "accounts.Membership"

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = "annotator"

    @classmethod
    def _create(cls, model_class, *, project, user, role):
        from accounts.services import membership_set

        return membership_set(project=project, user=user, role=role)


def member(project, role: str, username: str | None = None, **user_fields):
    """A new user who is a member of ``project`` with ``role``; returns the user."""
    user = UserFactory(username=username or role, **user_fields)
    MembershipFactory(project=project, user=user, role=role)
    return user


# -- songs and revisions --------------------------------------------------------------------------


class RevisionFactory(DjangoModelFactory):
    """Through ``revision_create``: the new revision becomes the song's current one. ``segments``
    may be (start, end, label) tuples, dicts or Segments; ``author`` defaults to the song's uploader."""

    class Meta:
        model = "annotations.AnnotationRevision"

    song = factory.SubFactory("factories.SongFactory")
    segments = factory.LazyAttribute(lambda o: [(0.0, o.song.duration, "non-vocal")])
    author = factory.LazyAttribute(lambda o: o.song.created_by)
    origin = "human"
    state = "draft"
    based_on = "current"

    @classmethod
    def _create(cls, model_class, *, song, segments: list, **kwargs):
        from annotations.services import revision_create

        return revision_create(song=song, segments=as_segments(segments), **kwargs)


class SongFactory(DjangoModelFactory):
    """A ready song row. ``audio=<bytes>`` stores those bytes as its original (sha256 and size from
    them); without it the row names a file that is not in storage (enough for pages, lists and
    permissions). ``revision=<segments>`` (+ ``revision__state``, ``revision__author``,
    ``revision__origin``...) gives it a current revision through RevisionFactory."""

    class Meta:
        model = "songs.Song"
        skip_postgeneration_save = True

    class Params:
        audio = None  # bytes of the original, stored in default_storage

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Song {n}")
    original_name = factory.LazyAttribute(lambda o: f"{o.title}.wav")
    extension = ".wav"
    sha256 = factory.LazyAttribute(
        lambda o: hashlib.sha256(o.audio + o.title.encode() if o.audio is not None
                                 else f"{o.project.pk}:{o.title}".encode()).hexdigest())
    size_bytes = factory.LazyAttribute(lambda o: len(o.audio) if o.audio is not None else 0)
    original = factory.LazyAttribute(
        lambda o: ContentFile(o.audio, name=o.original_name) if o.audio is not None
        else f"projects/{o.project.pk}/songs/{o.sha256}{o.extension}")
    duration = 10.0
    sample_rate = 16000
    channels = 1
    codec = "pcm_s16le"
    status = "ready"
    created_by = None

    @factory.post_generation
    def revision(song, create, extracted, **kwargs):
        if extracted is None and not kwargs:
            return
        if extracted is not None:
            kwargs["segments"] = extracted
        RevisionFactory(song=song, **kwargs)


VOCAL_SPANS = ((1.0, 2.4), (3.1, 4.3))


class SungSongFactory(SongFactory):
    """A stored synthetic song (``audio_fixtures.song``: noise, a drone, a voice-like tone in
    ``spans``; ``seed`` varies noise and pitch) and, unless ``verified=False``, a verified human
    revision that marks exactly those spans: training, evaluation and detection material."""

    class Params:
        seed = 0
        spans = VOCAL_SPANS
        verified = True
        audio = factory.LazyAttribute(
            lambda o: audio_fixtures.wav_bytes(audio_fixtures.song(o.duration, sr=o.sample_rate, seed=o.seed,
                                                                   spans=o.spans), o.sample_rate))
        vocal_segments = factory.LazyAttribute(lambda o: spans_to_segments(o.spans, duration=o.duration))

    duration = 5.0
    verified_revision = factory.Maybe(
        "verified",
        yes_declaration=factory.RelatedFactory(RevisionFactory, factory_related_name="song",
                                               segments=factory.SelfAttribute("..vocal_segments"), state="verified"),
        no_declaration=None,
    )


def sung_segments(spans=VOCAL_SPANS, duration: float = 5.0) -> list:
    """The segments of a SungSongFactory song's verified revision (its ``spans`` vocal)."""
    return spans_to_segments(spans, duration=duration)


def songs_by_split(project, user, *, train: int = 2, validation: int = 1, test: int = 1) -> dict:
    """``{"train": [...], "validation": [...], "test": [...]}`` of SungSongFactory songs, seeds 1, 2, ..."""
    out = {"train": [], "validation": [], "test": []}
    seed = 0
    for split, n in (("train", train), ("validation", validation), ("test", test)):
        for i in range(n):
            seed += 1
            out[split].append(SungSongFactory(project=project, title=f"{split} song {i + 1}", split=split,
                                              created_by=user, seed=seed))
    return out


# -- models, predictions, jobs, reports -----------------------------------------------------------


def stored_checkpoint(weights: str, *, seed: int = 0, kind: str = "source") -> dict:
    """Save a random-weight checkpoint ("tiny" or "full") in default_storage under models/test/;
    returns the ModelVersion fields that describe it."""
    from django.core.files.storage import default_storage

    from detector.checkpoint import save_checkpoint

    bundle = BUNDLES[weights](seed)
    with tempfile.TemporaryDirectory() as d:
        extra = {"seed": seed} if weights == "tiny" else {}
        data = save_checkpoint(Path(d) / "m.pt", kind=kind, **extra, **bundle).read_bytes()
    name = default_storage.save(f"models/test/{uuid.uuid4().hex}.pt", ContentFile(data))
    return {"checkpoint": name, "checkpoint_sha256": hashlib.sha256(data).hexdigest(),
            "trainable_parameters": bundle["model"].parameter_counts()["trainable"]}


class ModelVersionFactory(DjangoModelFactory):
    """A registry row. ``weights=None``: it names a checkpoint that is not stored; "tiny" / "full": a
    random-weight checkpoint in storage (see stored_checkpoint). ``active=True`` makes it the
    project's active model; ``project=None`` is a shipped model."""

    class Meta:
        model = "jobs.ModelVersion"
        skip_postgeneration_save = True

    class Params:
        weights = None
        weights_seed = 0
        stored = factory.LazyAttribute(
            lambda o: stored_checkpoint(o.weights, seed=o.weights_seed, kind=o.kind) if o.weights else None)

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"model-{n}")
    kind = "target"
    checkpoint = factory.LazyAttribute(lambda o: o.stored["checkpoint"] if o.stored else f"m/{o.name}.pt")
    checkpoint_sha256 = factory.LazyAttribute(lambda o: o.stored["checkpoint_sha256"] if o.stored else "")
    trainable_parameters = factory.LazyAttribute(lambda o: o.stored["trainable_parameters"] if o.stored else 0)

    @factory.post_generation
    def active(model, create, extracted, **kwargs):
        if extracted:
            _activate(model)


def _activate(model) -> None:
    model.project.active_model = model
    model.project.save(update_fields=["active_model"])


class TinyModelFactory(ModelVersionFactory):
    """A tiny random-weight source CRNN in storage (``weights_seed`` = its seed): jobs on it take seconds."""

    class Params:
        weights = "tiny"

    name = "tiny source"
    kind = "source"


class ActiveModelFactory(ModelVersionFactory):
    """A default-size random-weight CRNN in storage, made the project's active model: detection runs
    as with a trained model (``active=False`` to leave the project's choice alone)."""

    class Params:
        weights = "full"

    name = "tiny-target"

    @factory.post_generation
    def active(model, create, extracted, **kwargs):
        if extracted is not False:
            _activate(model)


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


class PredictionFactory(DjangoModelFactory):
    """A stored prediction with exactly ``probabilities`` (float16 .npy in storage); its segments
    default to the frames >= 0.5."""

    class Meta:
        model = "jobs.Prediction"
        rename = {"probabilities_file": "probabilities"}

    class Params:
        probabilities = factory.LazyAttribute(lambda o: np.full(int(round(o.song.duration * 100)), 0.05, np.float16))

    song = factory.SubFactory(SongFactory)
    model_version = factory.SubFactory(ModelVersionFactory, project=factory.SelfAttribute("..song.project"))
    hop = 0.01
    n_frames = factory.LazyAttribute(lambda o: int(np.asarray(o.probabilities).size))
    postprocess = factory.LazyFunction(lambda: {"threshold": 0.5})
    segments = factory.LazyAttribute(lambda o: _thresholded(o.probabilities, o.song.duration))
    probabilities_file = factory.LazyAttribute(
        lambda o: ContentFile(npy_bytes(np.asarray(o.probabilities, np.float16)),
                              name=f"predictions/{o.song.pk}-{o.model_version.pk}.npy"))


def _thresholded(probabilities, duration: float) -> list[dict]:
    from detector.labels import frames_to_segments

    mask = np.asarray(probabilities) >= 0.5
    return [s.to_dict() for s in frames_to_segments(mask, duration=duration)]


class JobFactory(DjangoModelFactory):
    class Meta:
        model = "jobs.Job"

    project = factory.SubFactory(ProjectFactory)
    kind = "detect"
    params = factory.LazyFunction(dict)


class ReportFactory(DjangoModelFactory):
    class Meta:
        model = "reports.EvaluationReport"

    model_version = factory.SubFactory(ModelVersionFactory)
    project = factory.SelfAttribute("model_version.project")
    name = factory.Sequence(lambda n: f"report {n}")
