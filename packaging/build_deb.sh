#!/usr/bin/env bash
# Turn a built one-folder bundle into a Debian package (dpkg-deb), the same bundle as the
# self-extracting installer's.
#   packaging/build_deb.sh DIST_DIR [--name NAME] [--version VERSION] [--site-profile FILE]
#     DIST_DIR/NAME/NAME      the bundle PyInstaller built (packaging/planner_workbench.spec)
#     DIST_DIR/NAME.version   the version the spec recorded (--version overrides it)
#     --site-profile FILE     ship FILE as /etc/planner-workbench/site.toml (a conffile: dpkg
#                             keeps a plant's local edits on upgrade, removes it on purge)
#   -> DIST_DIR/NAME_VERSION_ARCH.deb with
#      /opt/NAME/                 the bundle
#      /usr/bin/workbench, /usr/bin/NAME   launchers (links into /opt/NAME)
#      /usr/share/applications/NAME.desktop, /usr/share/icons/hicolor/scalable/apps/NAME.svg
#      /usr/share/doc/NAME/site.toml.example
# Depends on the glibc of the build machine (libc6 >= its version): see packaging/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${1:?usage: build_deb.sh DIST_DIR [--name NAME] [--version VERSION] [--site-profile FILE]}"
shift
name="${PWB_BUNDLE_NAME:-planner-workbench}"
version=""
site=""
while [ $# -gt 0 ]; do
    case "$1" in
        --name) name="$2"; shift 2 ;;
        --version) version="$2"; shift 2 ;;
        --site-profile) site="$2"; shift 2 ;;
        *) echo "build_deb.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -x "$dist/$name/$name" ] || { echo "no bundle at $dist/$name/$name: build it first" >&2; exit 1; }
[ -n "$version" ] || version="$(cat "$dist/$name.version")"
if [ -n "$site" ]; then
    [ -f "$site" ] || { echo "build_deb.sh: no site profile at $site" >&2; exit 2; }
    # refuse a broken profile here rather than on every user's screen
    python3 -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' "$site" \
        || { echo "build_deb.sh: $site is not valid TOML" >&2; exit 2; }
fi
arch="$(dpkg --print-architecture)"
glibc="$(ldd --version | sed -n 1p | grep -oE '[0-9]+\.[0-9]+$')"  # sed reads all: no SIGPIPE (exit 141) under pipefail
out="$dist/${name}_${version}_${arch}.deb"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
    "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/doc/$name"
cp -a "$dist/$name" "$root/opt/$name"
ln -s "/opt/$name/$name" "$root/usr/bin/workbench"
ln -s "/opt/$name/$name" "$root/usr/bin/$name"
sed "s/planner-workbench/$name/g" "$here/deb/planner-workbench.desktop" \
    > "$root/usr/share/applications/$name.desktop"
cp "$root/opt/$name/_internal/resources/icons/planner-workbench.svg" \
    "$root/usr/share/icons/hicolor/scalable/apps/$name.svg"
cp "$here/site.toml.example" "$root/usr/share/doc/$name/site.toml.example"
if [ -n "$site" ]; then
    mkdir -p "$root/etc/planner-workbench"
    install -m 0644 "$site" "$root/etc/planner-workbench/site.toml"
    echo "/etc/planner-workbench/site.toml" > "$root/DEBIAN/conffiles"
fi
size_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s/@NAME@/$name/g" -e "s/@VERSION@/$version/g" -e "s/@ARCH@/$arch/g" \
    -e "s/@SIZE_KB@/$size_kb/g" -e "s/@GLIBC@/$glibc/g" "$here/deb/control.in" > "$root/DEBIAN/control"
install -m 0755 "$here/deb/postinst" "$root/DEBIAN/postinst"
install -m 0755 "$here/deb/postrm" "$root/DEBIAN/postrm"
# gzip at level 1: the bundle's libraries are already compressed-ish; xz -9 takes minutes
dpkg-deb --root-owner-group -Zgzip -z1 --build "$root" "$out" >/dev/null
echo "deb: $out ($(du -h "$out" | cut -f1))"
