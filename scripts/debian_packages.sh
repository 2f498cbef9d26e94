# Sourced by the scripts that take material from Debian packages (get_source_material.sh,
# get_instrumental_music.sh): checks the tools, makes a scratch folder, and downloads a package.
#   usage: source debian_packages.sh TOOL...    (after DATA_DIR is set)

for tool in apt-get dpkg-deb "$@"; do
    command -v "$tool" >/dev/null || { echo "error: '$tool' is required" >&2; exit 1; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
UPDATED=0

download() {  # download PACKAGE into $WORK/PACKAGE.deb; runs `apt-get update` once if a download fails
    local pkg=$1
    (cd "$WORK" && apt-get download "$pkg" >/dev/null 2>&1) || {
        if [ "$UPDATED" = 0 ]; then
            echo "apt-get download $pkg failed; running apt-get update once" >&2
            apt-get update >/dev/null
            UPDATED=1
        fi
        (cd "$WORK" && apt-get download "$pkg" >/dev/null)
    }
    mv "$WORK"/"$pkg"_*.deb "$WORK/$pkg.deb"
}
