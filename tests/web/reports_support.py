"""Songs with known references and a hand-made Prediction whose counts are computable by hand.

Song "Alpha" (10 s = 1000 frames): reference vocal [2, 6) s -> frames 200..599.
  probabilities: frames 0..219 = 0.0, 220..699 = 1.0, 700..999 = 0.25 (threshold 0.5, no smoothing)
  -> TP 380 (220..599), FP 100 (600..699), FN 20 (200..219), TN 500.
Song "Beta" (5 s = 500 frames): reference vocal [0, 1) and [3, 5) -> frames 0..99 and 300..499.
  probabilities: 0..199 = 0.75, 200..299 = 0.0, 300..399 = 0.25, 400..499 = 0.875
  -> TP 200 (0..99, 400..499), FP 100 (100..199), FN 100 (300..399), TN 100 (200..299).
Pooled: TP 580, FP 200, TN 600, FN 120 (1500 frames).
"""

from __future__ import annotations

import factory
import numpy as np
from factories import ModelVersionFactory, PredictionFactory, RevisionFactory, SongFactory

NO_SMOOTHING = {"median_s": 0.0, "threshold": 0.5, "hysteresis": None, "min_vocal_s": 0.0, "min_gap_s": 0.0}

ALPHA_REF = [(0.0, 2.0, "non-vocal"), (2.0, 6.0, "vocal"), (6.0, 10.0, "non-vocal")]
BETA_REF = [(0.0, 1.0, "vocal"), (1.0, 3.0, "non-vocal"), (3.0, 5.0, "vocal")]


def alpha_probabilities() -> np.ndarray:
    p = np.zeros(1000, dtype=np.float16)
    p[220:700] = 1.0
    p[700:] = 0.25
    return p


def beta_probabilities() -> np.ndarray:
    p = np.zeros(500, dtype=np.float16)
    p[0:200] = 0.75
    p[300:400] = 0.25
    p[400:500] = 0.875
    return p


class ReportModelFactory(ModelVersionFactory):
    """A target model version as the report tests describe it (no checkpoint file)."""

    name = "crnn-v1"
    transfer_mode = "finetune:L1"
    trainable_parameters = 20720
    checkpoint = factory.LazyAttribute(lambda o: f"models/{o.name}.pt")


class ReportPredictionFactory(PredictionFactory):
    """A prediction post-processed with nothing but the 0.5 threshold (the counts above)."""

    postprocess = factory.LazyFunction(lambda: dict(NO_SMOOTHING))


def exact_on_alpha_model(*, project, alpha, beta, **fields):
    """Another model version with predictions: exactly Alpha's reference (vocal 2-6 s), nothing vocal in Beta."""
    model = ReportModelFactory(project=project, **fields)
    p = np.zeros(1000, dtype=np.float16)
    p[200:600] = 1.0
    ReportPredictionFactory(song=alpha, model_version=model, probabilities=p)
    ReportPredictionFactory(song=beta, model_version=model, probabilities=np.zeros(500, dtype=np.float16))
    return model


def verified_reference(*, song, spec, author, model_version=None):
    """Revision 1: the model's proposal (origin model:<id>, draft) when model_version is given;
    then the human correction, verified."""
    from jobs.models import Prediction

    if model_version is not None:
        prediction = Prediction.objects.get(song=song, model_version=model_version)
        RevisionFactory(song=song, segments=prediction.segments, author=None, origin=f"model:{model_version.pk}")
    return RevisionFactory(song=song, segments=spec, author=author, state="verified")


def hand_made_project(*, project, user):
    """Two test-split songs with verified references and predictions of one model (see module doc)."""
    model = ReportModelFactory(project=project)
    alpha = SongFactory(project=project, title="Alpha", duration=10.0, split="test")
    beta = SongFactory(project=project, title="Beta", duration=5.0, split="test")
    ReportPredictionFactory(song=alpha, model_version=model, probabilities=alpha_probabilities())
    ReportPredictionFactory(song=beta, model_version=model, probabilities=beta_probabilities())
    verified_reference(song=alpha, spec=ALPHA_REF, author=user, model_version=model)
    verified_reference(song=beta, spec=BETA_REF, author=user, model_version=model)
    return model, alpha, beta
