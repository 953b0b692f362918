#!/usr/bin/env bash
# Turn a built one-folder bundle into a self-extracting Linux installer for plant sites.
#   packaging/make_installer.sh DIST_DIR [NAME]
#     DIST_DIR/NAME/NAME      the bundle PyInstaller built (packaging/planner_workbench.spec)
#     DIST_DIR/NAME.version   the version the spec recorded
#   -> DIST_DIR/NAME-VERSION-linux-installer.sh (see packaging/installer/install.sh.in)
# The installer template is filled from the same version the bundle was built from, with the
# payload's sha256 so a damaged download is refused before anything is changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${1:?usage: make_installer.sh DIST_DIR [NAME]}"
name="${2:-${PWB_BUNDLE_NAME:-planner-workbench}}"
[ -x "$dist/$name/$name" ] || { echo "no bundle at $dist/$name/$name: build it first" >&2; exit 1; }
version="$(cat "$dist/$name.version")"
out="$dist/$name-$version-linux-installer.sh"
payload="$(mktemp)"
trap 'rm -f "$payload"' EXIT
tar -C "$dist" -czf "$payload" "$name"
sum="$(sha256sum "$payload" | cut -d' ' -f1)"
sed -e "s/@NAME@/$name/g" -e "s/@VERSION@/$version/g" -e "s/@PAYLOAD_SHA256@/$sum/g" \
    "$here/installer/install.sh.in" > "$out"
cat "$payload" >> "$out"
chmod +x "$out"
echo "installer: $out ($(du -h "$out" | cut -f1))"
