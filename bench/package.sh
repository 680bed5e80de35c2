#!/usr/bin/env bash
# Builds the Linux packages into target/packages/:
#   samizdat_<version>-1_amd64.deb   (cargo-deb; metadata in crates/desktop/Cargo.toml)
#   Samizdat-<version>-x86_64.AppImage (our runtime + squashfs; needs mksquashfs)
# Usage: bench/package.sh [--profile release|dev]
#   release (default) for packages to hand out; dev packages the debug build
#   the tests already made (CI's install test, crates/desktop/tests/installed_package.rs).
# Installs cargo-deb (pinned) when missing. Prints the path of each package built.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    *) echo "usage: bench/package.sh [--profile release|dev]" >&2; exit 2 ;;
  esac
done
out=target/packages
mkdir -p "$out"
command -v cargo-deb >/dev/null || cargo install cargo-deb --version 3.8.0 --locked --quiet
cargo build --locked --quiet --profile "$profile" -p samizdat-cli -p samizdat-desktop
bin=target/$([ "$profile" = dev ] && echo debug || echo "$profile")
# cargo-deb maps target/release/ in the assets to the profile's folder.
cargo deb -p samizdat-desktop --no-build --strip --profile "$profile" -o "$out/" >/dev/null 2>&1

# AppImage: an AppDir (AppRun, desktop entry, icon, both binaries) packed as
# squashfs (mksquashfs, from squashfs-tools) after an AppImage runtime. Every
# AppImage builder downloads the standard runtime from GitHub; ours is
# packaging/appimage-runtime (extract once, then run: see its source), built
# here, with the AppImage type-2 magic ("AI\2" at byte 8) set. APPIMAGE_RUNTIME
# names another runtime file to use instead.
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
appdir="$out/Samizdat.AppDir"
rm -rf "$appdir"
mkdir -p "$appdir/usr/bin" "$appdir/usr/share/applications"
cp "$bin/samizdat-desktop" "$bin/samizdat" "$appdir/usr/bin/"
strip "$appdir/usr/bin/"* 2>/dev/null || true
cp -r packaging/icons "$appdir/usr/share/"
cp packaging/samizdat.desktop "$appdir/usr/share/applications/"
cp packaging/samizdat.desktop "$appdir/"
cp packaging/icons/hicolor/256x256/apps/samizdat.png "$appdir/samizdat.png"
cp packaging/AppRun "$appdir/AppRun"
chmod 755 "$appdir/AppRun"
runtime="${APPIMAGE_RUNTIME:-}"
if [ -z "$runtime" ]; then
  cargo build --quiet --release --locked --manifest-path packaging/appimage-runtime/Cargo.toml \
    --target-dir target/appimage-runtime
  runtime="$out/runtime"
  cp target/appimage-runtime/release/samizdat-appimage-runtime "$runtime"
  printf 'AI\002' | dd of="$runtime" bs=1 seek=8 conv=notrunc status=none
fi
if command -v mksquashfs >/dev/null; then
  image="$out/Samizdat-$version-x86_64.AppImage"
  mksquashfs "$appdir" "$out/appdir.squashfs" -root-owned -noappend -quiet -comp gzip >/dev/null
  cat "$runtime" "$out/appdir.squashfs" > "$image"
  rm "$out/appdir.squashfs"
  chmod 755 "$image"
  echo "$image"
else
  echo "AppImage: not packed (mksquashfs missing: apt-get install squashfs-tools); the AppDir is $appdir" >&2
fi
ls "$out"/samizdat_"$version"-1_*.deb
