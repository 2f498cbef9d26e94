#!/usr/bin/env bash
# Extract free source-task material from Debian packages into DATA_DIR (no other downloads).
#
#   scripts/get_source_material.sh DATA_DIR
#
# Layout written (16 kHz mono PCM wav, one file per utterance / track):
#   DATA_DIR/speech/fillets-nl/   Dutch dialogue of Fish Fillets NG   (fillets-ng-data-nl, GPL-2+)
#   DATA_DIR/speech/fillets-cs/   Czech dialogue of Fish Fillets NG   (fillets-ng-data-cs, GPL-2+)
#   DATA_DIR/speech/klettres/     letters/syllables in many languages (klettres-data, GFDL-NIV-1.2+)
#   DATA_DIR/speech/pocketsphinx/ read speech (LibriVox, an4 ...)     (pocketsphinx-testdata, BSD)
#   DATA_DIR/music/fillets/       instrumental game soundtrack        (fillets-ng-data, GPL-2+)
#   DATA_DIR/text/fillets/        dialogue scripts in 15 languages (.lua), the text that
#                                 `python -m detector corpus synth-speech` gives espeak-ng/festival
# Each folder gets a LICENSE.txt (the package's debian/copyright) that the corpus manifest records.
# Uses `apt-get download` + `dpkg-deb -x`; runs `apt-get update` only when a download fails.
# Idempotent: finished folders (with a .done marker) are skipped.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DATA_DIR" >&2
    exit 2
fi
DATA_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
JOBS=${JOBS:-2}
# shellcheck source=scripts/debian_packages.sh
source "$(dirname "$0")/debian_packages.sh" ffmpeg

convert_all() {  # convert_all OUT_DIR PREFIX_TO_STRIP < list of source files
    local out=$1 strip=$2
    # name = relative path with '/' -> '__' so files stay unique and traceable
    while IFS= read -r src; do
        rel=${src#"$strip"/}
        printf '%s\0%s\0' "$src" "$out/${rel//\//__}"
    done | xargs -0 -n 2 -P "$JOBS" sh -c \
        'f="${2%.*}.wav"; [ -s "$f" ] || ffmpeg -nostdin -loglevel error -y -i "$1" -ac 1 -ar 16000 -c:a pcm_s16le "$f"' _
}

extract() {  # extract PACKAGE OUT_SUBDIR FIND_ROOT FIND_EXPR...
    local pkg=$1 sub=$2 root=$3; shift 3
    local out="$DATA_DIR/$sub"
    if [ -f "$out/.done" ]; then
        echo "$sub: already there"
        return
    fi
    echo "$sub: from $pkg"
    download "$pkg"
    rm -rf "$WORK/x" && mkdir -p "$WORK/x" "$out"
    dpkg-deb -x "$WORK/$pkg.deb" "$WORK/x"
    find "$WORK/x/$root" -type f \( "$@" \) | sort | convert_all "$out" "$WORK/x/$root"
    cp "$WORK/x/usr/share/doc/$pkg/copyright" "$out/LICENSE.txt"
    echo "$pkg $(dpkg-deb -f "$WORK/$pkg.deb" Version)" > "$out/SOURCE.txt"
    rm -rf "$WORK/x" "$WORK/$pkg.deb"
    touch "$out/.done"
    echo "$sub: $(find "$out" -name '*.wav' | wc -l) files"
}

extract fillets-ng-data-nl speech/fillets-nl usr/share/games/fillets-ng -name '*.ogg'
extract fillets-ng-data-cs speech/fillets-cs usr/share/games/fillets-ng -name '*.ogg'
extract klettres-data speech/klettres usr/share/klettres -name '*.ogg'
# pocketsphinx: the .wav files plus the headerless 16 kHz 16-bit .raw recordings
if [ ! -f "$DATA_DIR/speech/pocketsphinx/.done" ]; then
    extract pocketsphinx-testdata speech/pocketsphinx usr/share/pocketsphinx/test/data -name '*.wav'
    rm -f "$DATA_DIR/speech/pocketsphinx/.done"
    download pocketsphinx-testdata
    mkdir -p "$WORK/x" && dpkg-deb -x "$WORK/pocketsphinx-testdata.deb" "$WORK/x"
    for raw in "$WORK"/x/usr/share/pocketsphinx/test/data/*.raw; do
        ffmpeg -nostdin -loglevel error -y -f s16le -ar 16000 -ac 1 -i "$raw" \
            -c:a pcm_s16le "$DATA_DIR/speech/pocketsphinx/$(basename "${raw%.raw}").wav"
    done
    rm -rf "$WORK/x" "$WORK/pocketsphinx-testdata.deb"
    touch "$DATA_DIR/speech/pocketsphinx/.done"
fi
# only the soundtrack folder: sound/ holds dialogue and effects, not instrumental music
extract fillets-ng-data music/fillets usr/share/games/fillets-ng/music -name '*.ogg'
# dialogue text (many languages) for the speech synthesisers
if [ ! -f "$DATA_DIR/text/fillets/.done" ]; then
    download fillets-ng-data
    mkdir -p "$WORK/x" "$DATA_DIR/text/fillets" && dpkg-deb -x "$WORK/fillets-ng-data.deb" "$WORK/x"
    root="$WORK/x/usr/share/games/fillets-ng/script"
    find "$root" -name '*dialogs_*.lua' | sort | while IFS= read -r f; do
        rel=${f#"$root"/}
        cp "$f" "$DATA_DIR/text/fillets/${rel//\//__}"
    done
    cp "$WORK/x/usr/share/doc/fillets-ng-data/copyright" "$DATA_DIR/text/fillets/LICENSE.txt"
    rm -rf "$WORK/x" "$WORK/fillets-ng-data.deb"
    touch "$DATA_DIR/text/fillets/.done"
fi
echo "done: $DATA_DIR"
