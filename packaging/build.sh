#!/usr/bin/env bash
# Build the one-folder bundle and (with --smoke) prove it starts.
#   packaging/build.sh            -> dist/planner-workbench/planner-workbench
#   packaging/build.sh --smoke    -> also opens it offscreen on the small demo, saves
#                                    dist/smoke.png and fails unless it exits 0
#   packaging/build.sh --archive  -> also writes dist/planner-workbench-<version>-linux.tar.gz
#   packaging/build.sh --installer -> also writes dist/planner-workbench-<version>-linux-installer.sh
#                                    (self-extracting, see packaging/installer/install.sh.in)
# Needs the test extra installed (pip install -e '.[test]'), which brings PyInstaller.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/planner_workbench.spec
NAME=${PWB_BUNDLE_NAME:-planner-workbench}
VERSION=$(cat "dist/$NAME.version")
echo "built dist/$NAME (version $VERSION, $(du -sh "dist/$NAME" | cut -f1))"
for arg in "$@"; do
  case "$arg" in
    --smoke)
      tmp=$(mktemp -d)
      QT_QPA_PLATFORM=offscreen "dist/$NAME/$NAME" --cache "$tmp/cache.sqlite" --demo \
          --smoke dist/smoke.png
      echo "smoke test passed: dist/smoke.png"
      rm -rf "$tmp"
      ;;
    --archive)
      tar -C dist -czf "dist/$NAME-$VERSION-linux.tar.gz" "$NAME"
      echo "archive: dist/$NAME-$VERSION-linux.tar.gz"
      ;;
    --installer)
      packaging/make_installer.sh dist "$NAME"
      ;;
  esac
done
