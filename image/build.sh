#!/usr/bin/env bash
# make image: a bootable x86-64 disk image (GPT, UEFI, systemd-boot) of the NPAC appliance, built
# from Debian packages with mmdebstrap and from the project's wheel. Output under var/image/:
#   npac-appliance.img        raw disk image (write it to the node's disk, or boot it under qemu)
#   npac-appliance.manifest   the hash of every input and of the output (image/tools/manifest.py)
# Inputs are pinned in image/pins/; downloaded .debs and wheels are cached in var/image/cache.
set -euo pipefail
cd "$(dirname "$0")/.."
. image/pins/image.env
export SOURCE_DATE_EPOCH LC_ALL=C.UTF-8 TZ=UTC
OUT=var/image
CACHE=$OUT/cache
WORK=$OUT/work
ROOT=$WORK/rootfs
PY=${PY:-.venv/bin/python}
started=$(date +%s)
say() { printf '[image %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
die() { echo "image: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "building file systems with their owners needs root (or run under fakeroot-capable CI)"
need=(mmdebstrap mkfs.ext4 mkfs.vfat mcopy sfdisk)
for tool in "${need[@]}"; do command -v "$tool" >/dev/null || die "missing build tool $tool (apt-get install $(cat image/pins/build-tools.txt | tr '\n' ' '))"; done
[ -x "$PY" ] || die "no $PY: run make .venv/.installed first"
MIRROR=$(python3 image/tools/mirror.py "$SUITE") || exit 2
mkdir -p "$CACHE/debs" "$CACHE/python" "$WORK"

say "python wheels (pinned by image/pins/python.lock)"
rm -rf "$WORK/wheels" && mkdir -p "$WORK/wheels"
"$PY" -m pip download -q --no-deps --require-hashes -r image/pins/python.lock -d "$CACHE/python" \
  --only-binary=:all: --no-binary=systemd-python 2>&1 | grep -v "Location 'file" >&2 || true
"$PY" image/tools/manifest.py check-python image/pins/python.lock "$CACHE/python" || exit 2
cp "$CACHE"/python/*.whl "$WORK/wheels/"
# the one sdist (systemd-python) is compiled here, so the image needs no compiler; the compiled
# wheel is kept (a compiler's output is not byte-identical from run to run, the kept wheel is)
if ! ls "$CACHE"/built/systemd_python-*.whl >/dev/null 2>&1; then
  mkdir -p "$CACHE/built"
  "$PY" -m pip wheel -q --no-deps -w "$CACHE/built" "$CACHE"/python/systemd*python-*.tar.gz
fi
cp "$CACHE"/built/systemd_python-*.whl "$WORK/wheels/"
"$PY" -m pip wheel -q --no-deps -w "$WORK/wheels" . 2>&1 | grep -v "Location 'file" >&2 || true
ls "$WORK"/wheels/npac_appliance-*.whl >/dev/null || die "the project's wheel did not build"

say "root file system ($SUITE from the host's mirror)"
rm -rf "$ROOT"
mapfile -t packages < <(grep -v '^#' image/pins/debian-packages.txt | grep .)
includes=()
if [ -s image/pins/debian.lock ]; then
  # top-level packages at their locked versions; the check below covers everything they pull in
  for p in "${packages[@]}"; do
    v=$(awk -v p="$p" '$1==p {print $2}' image/pins/debian.lock)
    includes+=("$p${v:+=$v}")
  done
else
  includes=("${packages[@]}")
fi
export NPAC_REPO=$PWD NPAC_WORK=$PWD/$WORK
mmdebstrap --quiet --mode=root --variant=minbase --arch="$ARCH" \
  --include="$(IFS=,; echo "${includes[*]}")" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --skip=essential/unlink --skip=download/empty \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives" && find "'"$PWD/$CACHE"'/debs" -name "*.deb" -exec cp -t "$1/var/cache/apt/archives/" {} +' \
  --customize-hook='sync-out /var/cache/apt/archives "'"$PWD/$CACHE"'/debs"' \
  --customize-hook='cp "$1"/var/lib/apt/lists/*_InRelease "'"$PWD/$WORK"'/" 2>/dev/null || true' \
  --customize-hook='image/customize.sh "$1"' \
  "$SUITE" "$ROOT" "deb $MIRROR $SUITE main"

say "pins: installed packages against image/pins/debian.lock"
chroot "$ROOT" dpkg-query -W -f '${Package} ${Version} ${Architecture}\n' | sort > "$WORK/installed.txt"
if [ -s image/pins/debian.lock ] && [ "${LOCK_UPDATE:-0}" != 1 ]; then
  if ! diff <(grep -v '^#' image/pins/debian.lock) "$WORK/installed.txt" > "$WORK/lock.diff"; then
    head -5 "$WORK/lock.diff" >&2
    die "the mirror no longer serves the locked package set (above); use MIRROR=<a snapshot of the lock's date> or make image-lock"
  fi
else
  { echo "# Debian packages in the image: name version architecture (make image-lock rewrites this)"; cat "$WORK/installed.txt"; } > image/pins/debian.lock
fi

say "disk image"
image/assemble.sh "$ROOT" "$OUT/npac-appliance.img"

say "manifest"
"$PY" image/tools/manifest.py write --out "$OUT/npac-appliance.manifest" --suite "$SUITE" --mirror-release "$WORK"/*_InRelease \
  --installed "$WORK/installed.txt" --debs "$CACHE/debs" --wheels "$WORK/wheels" \
  --sources image firmware-hooks pyproject.toml --image "$OUT/npac-appliance.img"
rm -rf "$ROOT"
size=$(du -m --apparent-size "$OUT/npac-appliance.img" | cut -f1); used=$(du -m "$OUT/npac-appliance.img" | cut -f1)
say "done: $OUT/npac-appliance.img (${size} MiB, ${used} MiB allocated), manifest $OUT/npac-appliance.manifest"
