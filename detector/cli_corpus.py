"""``python -m detector corpus ...``: build the source-task corpus and its free material.

    corpus synth-speech --out DIR -n N [--text DIR]       espeak-ng / festival speech and singing
    corpus render-music --out DIR -n N [--seconds S]      music21 scores -> fluidsynth instrumentals
    corpus source --speech DIR... --music DIR... --hours H --out DIR --seed S
    corpus stems --from DIR --out DIR                     real vocal stems + mixes at 16 kHz, split
    corpus suite --stems DIR --material DIR --songs DIR --out DIR   the robustness suite (dev + test)
    corpus sing-speech --speech DIR... --out DIR -n N     real speech sung on melodies (Praat PSOLA)
"""

from __future__ import annotations

import argparse
import json
import time


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.replace(",", ":").split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW:HIGH, got {text!r}") from None
    return lo, hi


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("corpus", help="build the speech+music source corpus and its material",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="corpus_command", metavar="STEP", required=True)

    s = sub.add_parser("source", help="mix speech over instrumental music into a labelled corpus")
    s.add_argument("--speech", nargs="+", required=True, metavar="DIR",
                   help="folders of clean speech (any depth; a <file>.lab next to an audio file is used as its "
                        "alignment, otherwise an energy VAD finds the endpoints); each folder is drawn equally often")
    s.add_argument("--speech-weights", nargs="+", type=float, metavar="W",
                   help="one weight per --speech folder (default: equal)")
    s.add_argument("--music", nargs="+", required=True, metavar="DIR", help="folders of instrumental music")
    s.add_argument("--music-weights", nargs="+", type=float, metavar="W",
                   help="one weight per --music folder (default: equal)")
    size = s.add_mutually_exclusive_group(required=True)
    size.add_argument("--hours", type=float, help="total duration of the mixtures")
    size.add_argument("--clips", type=int, help="exact number of clips")
    s.add_argument("--out", "-o", required=True, help="output folder (must be empty unless --overwrite)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--smr", type=_range, default=(-6.0, 6.0), metavar="LOW:HIGH",
                   help="speech-to-music ratio range in dB, e.g. --smr=-6:6 (the default)")
    s.add_argument("--clip-seconds", type=_range, default=(8.0, 14.0), metavar="LOW:HIGH")
    s.add_argument("--music-only", type=float, default=0.1, help="share of clips without speech (default 0.1)")
    s.add_argument("--max-utterances", type=int, default=6)
    s.add_argument("--val-percent", type=float, default=5.0,
                   help="percent of files held out for validation clips (default 5)")
    s.add_argument("--no-song-like", action="store_true",
                   help="plain speech: no pitch shift, vibrato or reverb")
    s.add_argument("--workers", type=int, default=1, help="processes (output is the same for any number)")
    s.add_argument("--overwrite", action="store_true")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    t = sub.add_parser("synth-speech", help="synthesise speech and singing with espeak-ng and festival")
    t.add_argument("--out", "-o", required=True)
    t.add_argument("-n", type=int, required=True, help="number of utterances")
    t.add_argument("--text", help="folder of Fish Fillets dialogue scripts (from scripts/get_source_material.sh); "
                                  "default: a few built-in rhymes")
    t.add_argument("--kinds", nargs="+", default=["espeak-sing", "espeak-speech", "festival-sing", "festival-speech"],
                   help="also espeak-vocables, festival-vocables: sung 'ooh', 'la', 'yeah' held over a melody")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, default=1)
    t.add_argument("--quiet", action="store_true")

    st = sub.add_parser("stems", help="real vocal stems and their mixes (musdb layout) at 16 kHz, with "
                                      "labels from the stems and a fixed train/dev/test split")
    st.add_argument("--from", dest="src", required=True, help="folder of <track>/audio.* + vocals.* "
                                                              "(e.g. ../shared/data/musdb-cc)")
    st.add_argument("--out", "-o", required=True)
    st.add_argument("--quiet", action="store_true")

    su = sub.add_parser("suite", help="the robustness suite: held-out labelled clips (stem remixes at several "
                                      "levels, held-out soundtracks, song excerpts under odd conditions)")
    su.add_argument("--stems", help="folder from `corpus stems`")
    su.add_argument("--material", help="material folder with music-real/ (held-out soundtracks)")
    su.add_argument("--songs", help="labelled song collection (excerpts, test part)")
    su.add_argument("--seed", type=int, default=0)
    su.add_argument("--out", "-o", required=True)
    su.add_argument("--quiet", action="store_true")

    g = sub.add_parser("sing-speech", help="real speech turned into singing (Praat's PSOLA: a melody, vibrato, "
                                          "held notes), labels from the speech's endpoints")
    g.add_argument("--speech", nargs="+", required=True, metavar="DIR", help="folders of clean speech")
    g.add_argument("--out", "-o", required=True)
    g.add_argument("-n", type=int, required=True, help="number of utterances to sing")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--workers", type=int, default=1)
    g.add_argument("--quiet", action="store_true")

    m = sub.add_parser("render-music", help="render instrumental music from the music21 corpus with fluidsynth")
    m.add_argument("--out", "-o", required=True)
    m.add_argument("-n", type=int, required=True, help="number of clips")
    m.add_argument("--seconds", type=float, default=40.0, help="length of each clip")
    m.add_argument("--max-scores", type=int, default=200, help="how many corpus scores to draw from")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--workers", type=int, default=1)
    m.add_argument("--lead", action="store_true",
                   help="put the tune in front on a lead instrument (overdriven guitar, sax, synth lead ...) "
                        "mixed like a voice: hard negatives")
    m.add_argument("--quiet", action="store_true")


def run(args) -> int:
    from detector import corpus

    t0 = time.perf_counter()
    if args.corpus_command == "source":
        cfg = corpus.MixConfig(smr_db=args.smr, clip_s=args.clip_seconds, music_only_share=args.music_only,
                               max_utterances=args.max_utterances, val_percent=args.val_percent)
        if args.no_song_like:
            import dataclasses

            cfg = dataclasses.replace(cfg, pitch_shift_prob=0.0, vibrato_prob=0.0, reverb_prob=0.0)
        summary = corpus.build_source_corpus(
            speech=args.speech, music=args.music, out=args.out, hours=args.hours, clips=args.clips,
            seed=args.seed, config=cfg, workers=args.workers, progress=not args.quiet, overwrite=args.overwrite,
            speech_weights=args.speech_weights, music_weights=args.music_weights)
        minutes = (time.perf_counter() - t0) / 60
        tot = summary["totals"]
        print(json.dumps({"out": args.out, **tot, "build_minutes": round(minutes, 2),
                          "hours_per_minute": round(tot["hours"] / max(minutes, 1e-9), 4)}, indent=2))
    elif args.corpus_command == "stems":
        from detector.corpus.stems import prepare_stems

        info = prepare_stems(src=args.src, out=args.out)
        print(json.dumps({"out": args.out, "splits": info["splits"], "tracks": len(info["tracks"]),
                          "minutes": round((time.perf_counter() - t0) / 60, 2)}, indent=2))
    elif args.corpus_command == "suite":
        from detector.suite import build_suite

        index = build_suite(out=args.out, stems=args.stems, material=args.material, songs=args.songs, seed=args.seed,
                            progress=None if args.quiet else print)
        print(json.dumps({part: {c: len(items) for c, items in conds.items()} for part, conds in index["parts"].items()},
                         indent=2))
    elif args.corpus_command == "sing-speech":
        from detector.corpus.singing import sing_speech

        info = sing_speech(speech=args.speech, out=args.out, n=args.n, seed=args.seed, workers=args.workers,
                           progress=not args.quiet)
        print(json.dumps({**info, "minutes": round((time.perf_counter() - t0) / 60, 2)}, indent=2))
    elif args.corpus_command == "synth-speech":
        info = corpus.synthesize_speech(out=args.out, n=args.n, seed=args.seed, text_dir=args.text, kinds=args.kinds,
                                        workers=args.workers, progress=not args.quiet)
        print(json.dumps({**info, "minutes": round((time.perf_counter() - t0) / 60, 2)}, indent=2))
    else:
        info = corpus.render_music(out=args.out, n=args.n, seconds=args.seconds, seed=args.seed,
                                   max_scores=args.max_scores, workers=args.workers, progress=not args.quiet,
                                   lead=args.lead)
        print(json.dumps({**info, "minutes": round((time.perf_counter() - t0) / 60, 2)}, indent=2))
    return 0
