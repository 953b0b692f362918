"""Work-arounds for defects of the Qt binding that the application cannot avoid otherwise.

PySide6 6.12.0 on CPython 3.11 returns ``None`` from every void method (``setText``,
``processEvents``, ...) and ``True`` from ``Signal.emit`` without taking a reference. On CPython
3.12+ these singletons are immortal, so the binding gets away with it; on 3.11 each call drops a
reference, and after a few thousand calls the interpreter aborts with "none_dealloc: deallocating
None" or "bool_dealloc: deallocating True or False" (measured here: -1 reference per call, every
call). :func:`guard_singleton_refcounts` detects the defect with a few calls and, if present,
gives ``None``, ``True`` and ``False`` 2**40 extra references — which is what CPython 3.12 does
by making them immortal. They are never freed anyway, so this costs nothing. The proper fix is a
PySide6 without the defect (6.11.x is clean on 3.11) or Python 3.12+; the guard keeps the app
alive on an affected installation.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_checked = False
#: extra references given to each singleton when the defect is present
EXTRA_REFERENCES = 1 << 40


def singleton_references_lost() -> bool:
    """Whether calls into the binding lose references to None or True."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(8):
        probe.setObjectName("probe")  # a void method
        probe.ping.emit()
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    return lost_none >= 8 or lost_true >= 8


def guard_singleton_refcounts() -> bool:
    """Apply the guard once per process if needed; returns whether the defect was found."""
    global _checked
    if _checked:
        return False
    _checked = True
    if sys.version_info >= (3, 12) or not singleton_references_lost():
        return False
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every PyObject
        ctypes.c_ssize_t.from_address(id(singleton)).value += EXTRA_REFERENCES
    import PySide6

    log.info("PySide6 %s on Python %d.%d drops references to None/True on calls into Qt; "
                "guarded (use PySide6 6.11.x or Python 3.12+)", PySide6.__version__,
                *sys.version_info[:2])
    return True
