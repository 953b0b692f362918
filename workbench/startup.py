"""Before Qt starts: what this installation is (``workbench --version``, the About dialog),
whether the GUI can open here at all, and what ``--demo`` would discard. No Qt; one read-only
SQLite query (:func:`decisions_at_risk`).

Qt aborts the process (SIGABRT, exit code 134) when its platform plugin cannot load, and its
message blames ``libxcb-cursor0`` whatever is missing. :func:`gui_problem` checks first: without
any display it says so and how to run offscreen or CLI-only; on X11 it lists the system
libraries the xcb plugin and its Qt library actually lack (``ldd`` on the plugin, plus the
libraries Qt opens at run time) with the ``apt`` command that installs them. ``run_gui`` prints
the message and exits 2 instead of letting Qt abort.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from workbench import __version__

#: library (soname) -> the Debian/Ubuntu package providing it
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
#: libraries Qt opens at run time (dlopen), which ``ldd`` cannot see: name for find_library
RUNTIME_LIBRARIES = {"xcb-cursor": "libxcb-cursor.so.0"}
#: the platforms that need no display server
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")


def build_info() -> str:
    """How this program was built: the bundle's ``build.txt`` (written by the PyInstaller spec:
    date, commit, glibc), else ``source checkout``."""
    base = getattr(sys, "_MEIPASS", None)
    if base is not None:
        stamp = Path(base) / "resources" / "build.txt"
        if stamp.is_file():
            return stamp.read_text(encoding="utf-8").strip()
        return "frozen bundle"
    return "source checkout"


def about_rows(cache: Path | str | None = None,
               settings_file: Path | None = None) -> list[tuple[str, str]]:
    """(label, value) for ``workbench --version`` and the About dialog: version, build, cache
    path, settings path, site profile paths (present or not)."""
    from workbench.services.settings import SettingsError, load_settings, settings_path
    from workbench.services.site import site_profile_path, user_site_profile_path

    settings_file = settings_file or settings_path()
    if cache is None:
        try:
            configured = load_settings(settings_file).cache_path
        except SettingsError:
            configured = None
        if configured:
            from workbench.cache.db import as_location

            cache = as_location(configured)
        else:
            from workbench.cache.db import default_cache_path

            cache = default_cache_path()

    def found(path: Path) -> str:
        return f"{path}" + ("" if path.is_file() else " (none)")

    if isinstance(cache, str):  # a PostgreSQL URL: never its password
        from workbench.cache.pg import mask

        cache = mask(cache)
    return [("version", __version__), ("build", build_info()), ("cache", str(cache)),
            ("settings", str(settings_file)), ("site profile", found(site_profile_path())),
            ("user site profile", found(user_site_profile_path(settings_file)))]


def version_text(cache: Path | str | None = None) -> str:
    """``workbench --version``: the version first, then one ``label: value`` line each."""
    rows = about_rows(cache)
    return "\n".join([f"workbench {__version__}"] + [f"{k}: {v}" for k, v in rows[1:]])


def qt_platform_plugin(name: str = "xcb") -> Path | None:
    """The Qt platform plugin file (``libqxcb.so``) of the PySide6 in use, if found."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    for candidate in (root / "Qt" / "plugins" / "platforms" / f"libq{name}.so",
                      root / "plugins" / "platforms" / f"libq{name}.so"):
        if candidate.is_file():
            return candidate
    return None


def ldd_missing(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` reports as ``not found``, in order, each once."""
    seen: list[str] = []
    for match in re.finditer(r"^\s*(\S+)\s+=>\s+not found", ldd_output, re.MULTILINE):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def missing_libraries(plugin: Path | None = None,
                      find_library: Callable[[str], str | None] = ctypes.util.find_library,
                      ) -> list[str]:
    """System libraries the xcb platform plugin needs and this machine lacks (sonames)."""
    plugin = plugin or qt_platform_plugin()
    missing: list[str] = []
    ldd = shutil.which("ldd")
    if plugin is not None and ldd is not None:
        try:
            out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20,
                                 check=False).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        missing += ldd_missing(out)
    for name, soname in RUNTIME_LIBRARIES.items():
        if find_library(name) is None and soname not in missing:
            missing.append(soname)
    return missing


def apt_command(missing: list[str]) -> str:
    packages = sorted({DEBIAN_PACKAGES.get(lib, lib) for lib in missing})
    return "sudo apt-get install " + " ".join(packages)


def gui_problem(env: Mapping[str, str] | None = None, platform: str = sys.platform,
                missing: Callable[[], list[str]] = missing_libraries) -> str | None:
    """Why the GUI cannot open here (a message for the user), or None when it can try."""
    env = os.environ if env is None else env
    if platform != "linux" and not platform.startswith("freebsd"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if chosen in HEADLESS_PLATFORMS:
        return None
    if chosen == "wayland" or (not chosen and env.get("WAYLAND_DISPLAY")):
        return None  # a Wayland session: Qt tries its Wayland plugin, which needs no xcb libraries
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("Planner Workbench cannot open its window: there is no display (neither DISPLAY "
                "nor WAYLAND_DISPLAY is set).\n"
                "- on a desktop, start it from the desktop session (or ssh -X);\n"
                "- without a screen: QT_QPA_PLATFORM=offscreen workbench --smoke shot.png, or use "
                "the command line, e.g. `workbench status`, `workbench sync --source NAME` "
                "(`workbench --help` lists the commands).")
    lacking = missing()
    if lacking:
        return ("Planner Workbench cannot open its window: Qt's X11 (xcb) platform plugin needs "
                f"system libraries this machine lacks: {', '.join(lacking)}.\n"
                f"Install them with:\n    {apt_command(lacking)}\n"
                "(or run without a window: QT_QPA_PLATFORM=offscreen, or the command line, "
                "`workbench --help`).")
    return None


def decisions_at_risk(cache: Path, *, replaced: bool) -> tuple[int, list[str]]:
    """Decisions a demo load would cost: ``(count, connectors)``.

    ``replaced``: the cache file is deleted first (the GUI's ``--demo`` on the demo cache), so
    every decision in it is at risk. Otherwise the demo is synced into the cache: decisions are
    at risk when the cache holds data from another source (``connectors`` names them), which a
    demo sync replaces; decisions on the demo's own data stay (the send → sync round trip).
    Read only; a missing or unreadable file has nothing at risk."""
    import sqlite3

    if not cache.is_file():
        return 0, []
    try:
        conn = sqlite3.connect(f"{cache.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return 0, []
    try:
        count = int(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])
        others = [str(r[0]) for r in conn.execute(
            "SELECT DISTINCT connector FROM sync_runs WHERE connector <> 'demo' "
            "AND connector NOT LIKE 'demo-%' ORDER BY 1")]  # demo-edi: the demo's suppliers
    except sqlite3.Error:  # not a cache (yet): opening it will say so
        return 0, []
    finally:
        conn.close()
    if replaced:
        return count, others
    return (count, others) if others else (0, [])


def demo_refusal(count: int, connectors: list[str], cache: Path) -> str:
    """The message for a demo load refused to keep decisions."""
    where = f" on data from {', '.join(connectors)}" if connectors else ""
    return (f"{cache} holds {count:,} decision(s){where}; loading the demo would discard them. "
            "Use another --cache for the demo, or add --force to replace them.")
