#!/usr/bin/env bash
# Rebuild every piece of training and evaluation material the shipped models were made from, from
# Debian packages and ../shared/data only (no other downloads). Idempotent: a step whose output
# exists is skipped. About 25 minutes on 2 cores.
#
#   scripts/rebuild_material.sh [VAR_DIR]      (default: var)
#
# Writes VAR/material (speech, synthetic speech and singing, rendered and real instrumental music,
# the musdb-cc stems at 16 kHz), VAR/corpus/source (speech over music, the paper's source task) and
# VAR/suite (the robustness suite: dev and test parts). The model cards in detector/weights/ name
# the training commands that read them.
set -euo pipefail
cd "$(dirname "$0")/.."
VAR=${1:-var}
M=$VAR/material
SHARED=${SHARED_DATA:-../shared/data}
PY=${PYTHON:-.venv/bin/python}
W=${WORKERS:-2}
say() { printf '== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

say "speech, dialogue text, game music (Debian packages)"
scripts/get_source_material.sh "$M"
say "real recorded instrumental music (Debian soundtrack packages)"
scripts/get_instrumental_music.sh "$M"
say "synthetic speech and singing (espeak-ng, festival)"
[ -d "$M/synth/festival-speech" ] || $PY -m detector corpus synth-speech --out "$M/synth" -n 2500 \
    --text "$M/text/fillets" --seed 0 --workers "$W" --quiet
say "music rendered from scores (music21 + fluidsynth), plain and with a lead instrument"
[ -d "$M/music/music21" ] || $PY -m detector corpus render-music --out "$M/music/music21" -n 300 \
    --seconds 40 --max-scores 200 --seed 0 --workers "$W" --quiet
[ -d "$M/music/lead" ] || $PY -m detector corpus render-music --out "$M/music/lead" -n 150 --lead \
    --seconds 40 --max-scores 200 --seed 1 --workers "$W" --quiet
say "real vocal stems and their mixes (musdb-cc: train / dev / test tracks)"
[ -f "$M/stems/stems.json" ] || $PY -m detector corpus stems --from "$SHARED/musdb-cc" --out "$M/stems" --quiet
say "source corpus: speech and singing over instrumental music"
[ -d "$VAR/corpus/source/train" ] || $PY -m detector corpus source \
    --speech "$M/synth/espeak-sing" "$M/synth/festival-sing" "$M/synth/espeak-speech" "$M/synth/festival-speech" \
             "$M/speech/fillets-nl" "$M/speech/fillets-cs" "$M/speech/klettres" "$M/speech/pocketsphinx" \
    --speech-weights 3 3 1 0.5 1.5 1.5 0.5 0.2 \
    --music "$M/music/music21" "$M/music/fillets" --music-weights 3 1 \
    --hours 4 --out "$VAR/corpus/source" --seed 0 --workers "$W" --quiet
say "robustness suite (dev part: dev stems + held-out soundtracks; test part adds song excerpts)"
[ -f "$VAR/suite/suite.json" ] || $PY -m detector corpus suite --stems "$M/stems" --material "$M" \
    --songs "$SHARED/jamendolyrics" --seed 0 --out "$VAR/suite" --quiet
say "done"
