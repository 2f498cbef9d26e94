"""The generalization protocol: every choice made on development data, every score on data never
used for choosing (``python -m detector experiment generalization``).

Data and what each part is for (nothing here is ever trained on and scored in the same role):

- **Songs** (a labelled collection with a ``language`` column in ``songs.tsv``, e.g. the ten Jamendo
  songs): leave-one-language-out. In the fold of language L, the songs of L are the **test** songs;
  of the other songs two are **development** songs (``inner_split``), the rest train. Each recipe is
  trained on the fold's training songs; its **development set** is the development songs together
  with the robustness suite's dev part, and it chooses the epoch, the post-processing (median,
  threshold, gap filling) and which recipe the fold uses (best accuracy + F1 there: a recipe that
  fits these songs but forgets other music loses); the test songs are scored once, with the fold's
  choice. Every song is a test song exactly once, and no choice ever sees it.
- **The robustness suite** (:mod:`detector.suite`): its ``dev`` part (vocal stems of the ``dev``
  tracks, held-out soundtracks) chooses the source model (zero-shot, before any song is used); its
  ``test`` part is scored once: stem remixes of the ``test`` tracks and held-out soundtracks by
  every fold's model, and the song excerpts (short clips, mono, levels, MP3, pitch, tempo) by the
  model of the fold that held their song out.

The chosen default recipe (the one with the best mean development score over folds) is what
``default.pt`` is trained with; its figures here are those of the procedure, measured on held-out
data, which is what a user's new songs will see.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detector.adapt import RECIPES, Recipe, adapt, songs_from_collection
from detector.data import FrameDataset, find_items
from detector.errors import DataError
from detector.evaluation import objective, predict, tune_postprocess
from detector.metrics import counts, metrics_from_counts, roc_auc
from detector.postprocess import PostprocessConfig, binarize

__all__ = ["run_protocol", "language_folds", "inner_split", "write_report", "DEFAULT_RECIPES"]


#: the candidates for the song stage: the source model as it is, and detector.adapt.RECIPES
DEFAULT_RECIPES = {"source-only": Recipe(mode=None), **RECIPES}


def language_folds(songs: str | Path) -> dict[str, list[str]]:
    """``{language: [song, ...]}`` from the collection's ``songs.tsv`` (columns ``slug``, ``language``)."""
    tsv = Path(songs) / "songs.tsv"
    if not tsv.is_file():
        raise DataError(f"{str(songs)!r} has no songs.tsv with a language column")
    rows = [line.split("\t") for line in tsv.read_text(encoding="utf-8").splitlines() if line.strip()]
    head = rows[0]
    if "slug" not in head or "language" not in head:
        raise DataError(f"{tsv}: needs 'slug' and 'language' columns")
    present = {name for name, _, _ in find_items(songs)}
    folds: dict[str, list[str]] = {}
    for r in rows[1:]:
        slug, lang = r[head.index("slug")], r[head.index("language")]
        if slug in present:
            folds.setdefault(lang, []).append(slug)
    return {k: sorted(v) for k, v in sorted(folds.items())}


def inner_split(names: Sequence[str], *, seed: int, n_dev: int = 2) -> tuple[list[str], list[str]]:
    """``(train, development)`` songs: ``n_dev`` drawn by a seeded permutation (at least one train)."""
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    n_dev = min(n_dev, len(names) - 1)
    return sorted(order[n_dev:]), sorted(order[:n_dev])


# -- the run ----------------------------------------------------------------------------------------


@dataclass
class Context:
    """What every step reads: the songs, the suite (features cached per front end)."""

    songs_dir: Path
    suite_dir: Path
    suite: dict
    cache_dir: Path | None
    say: Callable[[str], None] = print
    _datasets: dict = field(default_factory=dict)

    def collection(self, folder: Path, fe: str = "centre") -> FrameDataset:
        from detector.material import front_end_configs

        key = (str(folder), fe)
        if key not in self._datasets:
            self._datasets[key] = FrameDataset.from_collection(folder, feature_config=front_end_configs()[fe],
                                                               cache_dir=self.cache_dir)
        return self._datasets[key]

    def songs(self, names: Sequence[str]) -> FrameDataset:
        full = self.collection(self.songs_dir)
        return full.subset([full.names.index(n) for n in names])

    def suite_part(self, part: str) -> dict[str, FrameDataset]:
        return {c: self.collection(self.suite_dir / part / c) for c in self.suite["parts"].get(part, {})}


def adapt_fold(ctx: Context, source, recipe: Recipe, train_names: Sequence[str], dev_names: Sequence[str], *,
               seed: int, progress: bool = False):
    """:func:`detector.adapt.adapt` on the fold's songs, the development songs and the suite's dev
    part as its development set: ``(backend, postprocess, development scores)``."""
    development = songs_from_collection(ctx.songs_dir, dev_names)
    if (ctx.suite_dir / "dev").is_dir():
        development += songs_from_collection(ctx.suite_dir / "dev")
    result = adapt(start=source, train=songs_from_collection(ctx.songs_dir, train_names), development=development,
                   recipe=recipe, seed=seed, cache_dir=ctx.cache_dir, progress=progress)
    return result.backend, result.postprocess, result.development


def _pooled(items: Sequence[tuple[np.ndarray, np.ndarray, PostprocessConfig]]) -> dict:
    """Pooled frame metrics and ROC AUC of ``(probabilities, labels, post-processing)`` items."""
    total = dict.fromkeys(("tp", "fp", "tn", "fn"), 0)
    for p, y, post in items:
        c = counts(np.asarray(y, bool), binarize(p, config=post))
        for k in total:
            total[k] += c[k]
    out = metrics_from_counts(total)
    ref = np.concatenate([np.asarray(y, bool) for _, y, _ in items]) if items else np.zeros(0, bool)
    out["roc_auc"] = roc_auc(ref, np.concatenate([p for p, _, _ in items])) if 0 < ref.sum() < len(ref) else None
    return out


def _with(post: PostprocessConfig, probs, labels) -> list[tuple[np.ndarray, np.ndarray, PostprocessConfig]]:
    return [(p, y, post) for p, y in zip(probs, labels, strict=True)]


def _rounded(d: dict | None) -> dict | None:
    return None if d is None else {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def _edge_accuracy(items, *, edge_frames: int = 50) -> dict:
    """Edge effects: accuracy over the first and last half second of each clip against its middle
    (each clip post-processed whole, then its frames split)."""
    hits = {"edges": [0, 0], "middle": [0, 0]}
    for p, y, post in items:
        ok = binarize(p, config=post) == np.asarray(y, bool)
        edge = np.zeros(len(ok), bool)
        edge[:edge_frames] = edge[-edge_frames:] = True
        for part, sel in (("edges", edge), ("middle", ~edge)):
            hits[part][0] += int(ok[sel].sum())
            hits[part][1] += int(sel.sum())
    return {f"accuracy_{part}": round(a / n, 4) if n else None for part, (a, n) in hits.items()}


def _song_of(item: str) -> str:
    return item.split("__", 1)[0]


def run_protocol(
    *,
    sources: Mapping[str, str | Path],
    songs: str | Path,
    suite: str | Path,
    stems: str | Path | None = None,
    material: str | Path | None = None,
    recipes: Mapping[str, Recipe] = DEFAULT_RECIPES,
    cache_dir: str | Path | None = None,
    seed: int = 0,
    say: Callable[[str], None] = print,
    progress: bool = False,
) -> dict:
    """Run the protocol (module docstring); returns everything :func:`write_report` writes."""
    from detector.inference import load_model
    from detector.suite import build_suite

    t0 = time.perf_counter()
    say("building the robustness suite")
    index = build_suite(out=suite, stems=stems, material=material, songs=songs, seed=seed, progress=say)
    ctx = Context(Path(songs), Path(suite), index, Path(cache_dir) if cache_dir else None, say=say)

    # 1. the source model, chosen on the suite's dev part (no song involved)
    dev_suite = ctx.suite_part("dev")
    choice: dict[str, dict] = {}
    for name, path in sources.items():
        backend = load_model(path, runtime="torch")
        probs = {c: predict(backend, ds.features) for c, ds in dev_suite.items()}
        flat_p = [p for c in dev_suite for p in probs[c]]
        flat_y = [y for c in dev_suite for y in dev_suite[c].labels]
        post, scores = tune_postprocess(flat_p, flat_y)
        choice[name] = {"pooled": {**scores, "roc_auc": _pooled(_with(post, flat_p, flat_y))["roc_auc"]},
                        "postprocess": post.to_dict(),
                        "conditions": {c: _pooled(_with(post, probs[c], dev_suite[c].labels)) for c in dev_suite},
                        "parameters": sum(p.numel() for p in backend.model.parameters())}
        say(f"source {name}: dev suite accuracy {scores['accuracy']:.3f} F1 {scores['f1']:.3f} "
            f"AUC {choice[name]['pooled']['roc_auc']:.3f}")
    chosen_source = max(choice, key=lambda n: objective(choice[n]["pooled"]))
    source = load_model(sources[chosen_source], runtime="torch")
    say(f"chosen source: {chosen_source}")

    # 2. leave one language out; recipes chosen on each fold's development songs
    folds = language_folds(songs)
    test_suite = ctx.suite_part("test")
    song_conditions = [c for c in test_suite if c.startswith(("excerpts", "songs-"))]
    other_conditions = [c for c in test_suite if c not in song_conditions]
    fold_records = []
    per_recipe_test: dict[str, dict[str, dict]] = {r: {} for r in recipes}  # recipe -> song -> counts
    chosen_test: dict[str, dict] = {}
    chosen_probs: dict[str, dict] = {c: {} for c in song_conditions}  # condition -> item -> (p, y, post)
    other_scores: dict[str, list[dict]] = {c: [] for c in other_conditions}
    for k, (lang, test_names) in enumerate(folds.items()):
        rest = [n for names in folds.values() for n in names if n not in test_names]
        train_names, dev_names = inner_split(rest, seed=seed + k)
        test = ctx.songs(test_names)
        rec: dict[str, Any] = {"language": lang, "test": test_names, "train": train_names, "development": dev_names,
                               "recipes": {}}
        best = None
        for rname, recipe in recipes.items():
            t = time.perf_counter()
            say(f"fold {lang}: {rname} (train {len(train_names)}, development {len(dev_names)}, test {len(test_names)})")
            backend, post, dev_scores = adapt_fold(ctx, source, recipe, train_names, dev_names, seed=seed,
                                                   progress=progress)
            probs = predict(backend, test.features)
            per_song = {n: counts(np.asarray(y, bool), binarize(p, config=post))
                        for n, p, y in zip(test.names, probs, test.labels, strict=True)}
            per_recipe_test[rname].update(per_song)
            rec["recipes"][rname] = {"development": _rounded(dev_scores), "choice": round(objective(dev_scores), 4),
                                     "postprocess": post.to_dict(), "seconds": round(time.perf_counter() - t, 1)}
            # other-domain test conditions, for every recipe (for information: the choice never sees them)
            rec["recipes"][rname]["test_suite"] = {
                c: _rounded(_pooled(_with(post, predict(backend, test_suite[c].features), test_suite[c].labels)))
                for c in other_conditions}
            if best is None or objective(dev_scores) > best[0]:
                best = (objective(dev_scores), rname, backend, post, probs, per_song)
        _, rname, backend, post, probs, per_song = best
        rec["chosen"] = rname
        say(f"fold {lang}: development songs chose {rname}")
        chosen_test.update(per_song)
        for c in song_conditions:
            ds = test_suite[c]
            keep = [i for i, n in enumerate(ds.names) if _song_of(n) in test_names]
            sub = ds.subset(keep)
            for n, p, y in zip(sub.names, predict(backend, sub.features), sub.labels, strict=True):
                chosen_probs[c][n] = (p, y, post)
        for c in other_conditions:
            other_scores[c].append(rec["recipes"][rname]["test_suite"][c])
        fold_records.append(rec)

    # 3. scores on data never used for choosing
    test_songs = {n: metrics_from_counts(c) for n, c in chosen_test.items()}
    languages = {lang: metrics_from_counts({k: sum(chosen_test[n][k] for n in names) for k in ("tp", "fp", "tn", "fn")})
                 for lang, names in folds.items()}
    pooled_chosen = metrics_from_counts({k: sum(c[k] for c in chosen_test.values()) for k in ("tp", "fp", "tn", "fn")})
    by_recipe = {r: metrics_from_counts({k: sum(c[k] for c in per.values()) for k in ("tp", "fp", "tn", "fn")})
                 for r, per in per_recipe_test.items()}
    robustness = {}
    for c in song_conditions:
        items = list(chosen_probs[c].values())
        robustness[c] = {**_pooled(items), "items": len(items), "scored_by": "the fold model that held the song out"}
    if "excerpts" in chosen_probs:
        robustness["excerpts"]["edges"] = _edge_accuracy(list(chosen_probs["excerpts"].values()))
    for c, runs in other_scores.items():
        robustness[c] = {key: float(np.mean([r[key] for r in runs if r.get(key) is not None]))
                         for key in ("accuracy", "f1", "precision", "recall", "specificity", "roc_auc")
                         if any(r.get(key) is not None for r in runs)}
        robustness[c]["items"] = len(test_suite[c])
        robustness[c]["scored_by"] = f"mean of the {len(runs)} fold models"
    dev_means = {r: float(np.mean([f["recipes"][r]["choice"] for f in fold_records])) for r in recipes}
    default_recipe = max(dev_means, key=dev_means.get)
    return {
        "source_choice": {"chosen": chosen_source, "candidates": choice},
        "folds": fold_records,
        "test": {"pooled": pooled_chosen, "languages": languages, "songs": test_songs,
                 "by_recipe": by_recipe},
        "robustness": robustness,
        "default_recipe": {"name": default_recipe, "recipe": recipes[default_recipe].to_dict(),
                           "mean_development_objective": dev_means},
        "suite": {part: {c: len(v) for c, v in conds.items()} for part, conds in index["parts"].items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }


# -- the report ---------------------------------------------------------------------------------------


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _auc(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def write_report(result: dict, out: str | Path, *, meta: dict) -> Path:
    """``results.json`` and ``README.md`` (the tables) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"meta": meta, **result}, indent=1, default=float) + "\n")
    t = result["test"]
    lines = ["# Generalization protocol", "",
             f"Command: `{meta.get('command')}` ({result['seconds'] / 60:.0f} min, {meta.get('machine', '')}).", "",
             "Every choice was made on development data; every figure marked **test** comes from data that no",
             "choice saw (see `detector/generalization.py` for the protocol).", "",
             "## 1. Source model, chosen zero-shot on the suite's dev part (development figures)", "",
             "| source | parameters | accuracy | F1 | ROC AUC | chosen |", "|---|---|---|---|---|---|"]
    for name, c in result["source_choice"]["candidates"].items():
        p = c["pooled"]
        lines.append(f"| {name} | {c['parameters']:,} | {_pct(p['accuracy'])} | {_pct(p['f1'])} | {_auc(p['roc_auc'])} | "
                     f"{'**yes**' if name == result['source_choice']['chosen'] else ''} |")
    lines += ["", "## 2. Songs, leave one language out (**test**: each song scored once, by the fold that held out "
              "its language, with the recipe the fold's development songs chose)", "",
              "| held-out language | songs | chosen recipe | accuracy | F1 | precision | recall | specificity |",
              "|---|---|---|---|---|---|---|---|"]
    for f in result["folds"]:
        m = t["languages"][f["language"]]
        lines.append(f"| {f['language']} | {len(f['test'])} | {f['chosen']} | {_pct(m['accuracy'])} | {_pct(m['f1'])} | "
                     f"{_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['specificity'])} |")
    m = t["pooled"]
    lines.append(f"| **all songs** | {len(t['songs'])} | | **{_pct(m['accuracy'])}** | **{_pct(m['f1'])}** | "
                 f"{_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['specificity'])} |")
    lines += ["", "Per song (test):", "", "| song | accuracy | F1 | precision | recall |", "|---|---|---|---|---|"]
    for name, s in sorted(t["songs"].items()):
        lines.append(f"| {name} | {_pct(s['accuracy'])} | {_pct(s['f1'])} | {_pct(s['precision'])} | {_pct(s['recall'])} |")
    lines += ["", "Every recipe on the test songs (for information only: the table above is the one chosen "
              "without seeing them), with the choice score (mean over folds of accuracy + F1 on the development "
              "set) and, on the suite's other-music test part (stem remixes, held-out soundtracks), the mean "
              "over the fold models:", "",
              "| recipe | songs accuracy | songs F1 | choice score | other music accuracy | other music F1 |",
              "|---|---|---|---|---|---|"]
    for r, s in t["by_recipe"].items():
        other = [f["recipes"][r]["test_suite"] for f in result["folds"]]
        acc = np.mean([np.mean([c["accuracy"] for c in o.values()]) for o in other]) if other and other[0] else None
        f1 = np.mean([np.mean([c["f1"] for c in o.values()]) for o in other]) if other and other[0] else None
        lines.append(f"| {r} | {_pct(s['accuracy'])} | {_pct(s['f1'])} | "
                     f"{result['default_recipe']['mean_development_objective'][r]:.3f} | {_pct(acc)} | {_pct(f1)} |")
    lines += ["", f"Default recipe (best mean choice score): **{result['default_recipe']['name']}** "
              f"`{json.dumps(result['default_recipe']['recipe'])}`", "",
              "## 3. Robustness suite (**test**)", "",
              "| condition | items | accuracy | F1 | ROC AUC | scored by |", "|---|---|---|---|---|---|"]
    for c, s in result["robustness"].items():
        lines.append(f"| {c} | {s['items']} | {_pct(s.get('accuracy'))} | {_pct(s.get('f1'))} | "
                     f"{_auc(s.get('roc_auc'))} | {s['scored_by']} |")
    edges = result["robustness"].get("excerpts", {}).get("edges")
    if edges:
        lines += ["", f"Edge effects (excerpts): accuracy {_pct(edges['accuracy_edges'])} within 0.5 s of a clip's "
                      f"start or end, {_pct(edges['accuracy_middle'])} elsewhere."]
    (out / "README.md").write_text("\n".join(lines) + "\n")
    return out
