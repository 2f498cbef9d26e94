#!/usr/bin/env bash
# Extract real recorded instrumental music from Debian game-soundtrack packages into DATA_DIR: the
# negatives (music without a voice) of the training corpus. No other downloads.
#
#   scripts/get_instrumental_music.sh DATA_DIR
#
# Layout written: DATA_DIR/music-real/<package>/<track>.flac (16 kHz, stereo kept: the centre front
# end needs both channels), plus LICENSE.txt (the package's debian/copyright) and SOURCE.txt.
# Tracks with a voice in them (choirs, chants, sung or spoken parts) are removed as listed in
# scripts/instrumental_music_voiced.txt, found by scripts/check_instrumental_music.py and a look at
# their spectrograms. Uses `apt-get download` + `dpkg-deb -x` (+ unzip for .pk3 archives); runs
# `apt-get update` only when a download fails. Idempotent: finished folders (.done) are skipped.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DATA_DIR" >&2
    exit 2
fi
DATA_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=${JOBS:-2}
# shellcheck source=scripts/debian_packages.sh
source "$(dirname "$0")/debian_packages.sh" ffmpeg unzip

convert_all() {  # convert_all OUT_DIR < list of source files: 16 kHz stereo FLAC named after the file
    local out=$1
    while IFS= read -r src; do
        printf '%s\0%s\0' "$src" "$out/$(basename "${src%.*}").flac"
    done | xargs -0 -n 2 -P "$JOBS" sh -c \
        '[ -s "$2" ] || ffmpeg -nostdin -loglevel quiet -y -i "$1" -vn -ac 2 -ar 16000 -sample_fmt s16 -c:a flac "$2" ||
         { rm -f "$2"; echo "  skipped $(basename "$1"): not decodable" >&2; }' _
}

extract() {  # extract PACKAGE ROOT FIND_EXPR...   (ROOT: folder inside the package, or a .pk3 in it)
    local pkg=$1 root=$2; shift 2
    local out="$DATA_DIR/music-real/$pkg"
    if [ -f "$out/.done" ]; then
        echo "$pkg: already there"
        return
    fi
    echo "$pkg: extracting"
    download "$pkg"
    rm -rf "$WORK/x" && mkdir -p "$WORK/x" "$out"
    dpkg-deb -x "$WORK/$pkg.deb" "$WORK/x"
    local dir="$WORK/x/$root"
    if [ "${root##*.}" = pk3 ]; then  # a zip of the game's data
        mkdir -p "$WORK/pk3" && unzip -q -o "$WORK/x/$root" -d "$WORK/pk3"
        dir="$WORK/pk3"
    fi
    find "$dir" -type f \( "$@" \) | sort | convert_all "$out"
    cp "$WORK/x/usr/share/doc/$pkg/copyright" "$out/LICENSE.txt"
    echo "$pkg $(dpkg-deb -f "$WORK/$pkg.deb" Version)" > "$out/SOURCE.txt"
    rm -rf "$WORK/x" "$WORK/pk3" "$WORK/$pkg.deb"
    # tracks with a voice: never negatives
    { grep -v '^#' "$HERE/instrumental_music_voiced.txt" || true; } | awk -v p="$pkg" '$1 == p {print $2}' |
        while read -r track; do rm -f "$out/$track.flac"; done
    touch "$out/.done"
    echo "$pkg: $(find "$out" -name '*.flac' | wc -l) tracks"
}

extract nexuiz-music usr/share/games/nexuiz/data/music.pk3 -name '*.ogg'
extract ufoai-music usr/share/games/ufoai/base/0music.pk3 -name '*.ogg'
extract warzone2100-music usr/share/games/warzone2100/music -name '*.opus'
extract wesnoth-1.16-music usr/share/games/wesnoth/1.16/data/core/music -name '*.ogg'
extract singularity-music usr/share/games/singularity/music -name '*.ogg'
extract hyperrogue-music usr/share/hyperrogue/music -name '*.ogg'
extract asc-music usr/share/games/asc/music -name '*.mp3'
extract supertuxkart-data usr/share/games/supertuxkart/data/music -name '*.ogg'
extract supertux-data usr/share/games/supertux2/music -name '*.ogg'
extract extremetuxracer-data usr/share/games/etr/music -name '*.ogg'
extract flare-game usr/share/games/flare/mods -path '*/music/*' -name '*.ogg'
extract freedroidrpg-data usr/share/freedroidrpg/data/sound/music -name '*.ogg'
extract megaglest-data usr/share/games/megaglest -path '*/music/*' -name '*.ogg'
extract planetblupi-music-ogg usr/share/planetblupi/music -name '*.ogg'
echo "done: $DATA_DIR/music-real"
