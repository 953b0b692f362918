"""A big XLSX sheet read in parts, each parsed by calamine beside the work on the parts before.

python-calamine parses a whole sheet at once (2.2-2.6 s of CPU for the medium bench's 149 MB
sheet XML, more than the canonical sync of the same records) and releases the GIL while it
parses, but a sheet cannot be split through its API. So the sheet's XML is split here: a feeder
thread inflates it from the workbook (zlib releases the GIL too), cuts it after a ``</row>``
about every :data:`PART_BYTES`, and wraps each part as a small workbook of its own (the
workbook's other small entries — workbook, relationships, styles for the date formats, shared
strings — stored as they are, the part as the sheet); worker threads parse the parts in order
while the caller turns the parts already parsed into records. Cells keep their ``r``
references, so every row keeps its number and column.

:func:`sheet_parts` gives ``(first row, first column, rows)`` per part (0-based, as
``CalamineSheet.start``), or None when the sheet is read whole: not a zip workbook (XLS, XLSB,
ODS), a sheet XML under :data:`MIN_SHEET_BYTES`, a shared-strings table too big to parse once per
part, fewer than two idle cores (:func:`free_cores`: one for the feeder, one for a parser; on a
busy machine the parts' extra CPU is not won back: see :data:`MIN_FREE_CORES`),
A layout this does not know (no ``<sheetData>`` start tag in the first part, a row without its
``r`` number, ...) or a part calamine cannot read raises :class:`Unsplittable` before that part's
rows are given; the caller then reads the sheet whole and skips the rows it has
(:func:`planner_connectors.files.tables._or_whole`): what a workbook holds is read the same either way.
"""

from __future__ import annotations

import io
import os
import posixpath
import queue
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

#: sheet XML bytes per part (about 22,000 rows of 24 cells)
PART_BYTES = 16 << 20
#: a sheet XML smaller than this is parsed whole (a part's fixed costs would not pay)
MIN_SHEET_BYTES = 32 << 20
#: the shared strings are parsed again for every part: parts are made at least this many times
#: bigger than their XML, and a sheet needing fewer than 3 such parts is parsed whole
SHARED_STRING_FACTOR = 4
#: parts parsed at once (the caller's thread turns parsed parts into records beside them)
WORKERS = max(1, min(2, (os.cpu_count() or 2) - 1))
#: idle cores (CPU count less the load average) needed to read a sheet in parts. On the 2 shared
#: cores of the benchmark machine the parts cost wall time at every load seen (medium mapped
#: sync at load 3.6: 11.6-11.8 s in parts against 7.2-7.3 s whole, 7.5 against 6.3 s of CPU):
#: the reading thread, the feeder and the parser share one scheduler slice and hand the GIL
#: over. A gain needs a core each for the feeder and a parser beside the reading thread; it
#: was not measured (no idle machine in that session).
MIN_FREE_CORES = 2.0

_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)worksheet[\s>]")
Part = tuple[int, int, list[list[Any]]]


class Unsplittable(Exception):
    """The sheet cannot be read in parts (the reason); read it whole."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sheet_entry(book: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    """The zip entry of the sheet called ``name`` (workbook -> relationships -> target)."""
    try:
        workbook = "xl/workbook.xml"
        rels = ElementTree.fromstring(book.read("_rels/.rels"))
        for rel in rels:
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook = rel.get("Target", workbook).lstrip("/")
        base = posixpath.dirname(workbook)
        root = ElementTree.fromstring(book.read(workbook))
        rid = next((s.get(_REL) for s in root.iter() if _local(s.tag) == "sheet"
                    and s.get("name") == name), None)
        wb_rels = ElementTree.fromstring(
            book.read(posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels")))
        target = next((r.get("Target", "") for r in wb_rels if r.get("Id") == rid), "")
    except (KeyError, ElementTree.ParseError):
        return None
    if not target:
        return None
    path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
        posixpath.join(base, target))
    try:
        return book.getinfo(path)
    except KeyError:
        return None


def sheet_parts(path: Path, name: str, workers: int | None = None) -> Iterator[Part] | None:
    """The sheet's rows part by part, parsed in worker threads (see the module doc); None:
    read the sheet whole."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    free = free_cores()
    workers = workers or (min(WORKERS, int(free) - 1) if free >= MIN_FREE_CORES else 0)
    if workers < 1:  # no cores to parse beside the reading: the parts would only cost more
        return None
    try:
        with zipfile.ZipFile(path) as book:
            entry = sheet_entry(book, name)
            if entry is None or entry.file_size < MIN_SHEET_BYTES:
                return None
            small = [i for i in book.infolist()
                     if i.filename != entry.filename and not _is_sheet(i.filename)
                     and not i.filename.startswith("xl/media/")]
            strings = max((i.file_size for i in small if "sharedstrings" in i.filename.lower()),
                          default=0)
            size = max(PART_BYTES, SHARED_STRING_FACTOR * strings)
            if entry.file_size < 3 * size:
                return None
            others = {i.filename: book.read(i) for i in small}
    except (OSError, zipfile.BadZipFile):
        return None
    return _parts(path, name, entry, others, size, workers)


def free_cores() -> float:
    """Cores no process is waiting for (the CPU count less the 1-minute load average, which
    counts this process): splitting a sheet costs 0.6 s of CPU more on the medium bench (its own
    inflating and zipping), a gain only when a core would otherwise stay idle."""
    try:
        return (os.cpu_count() or 1) - os.getloadavg()[0]
    except OSError:  # no load average (Windows): assume the cores are there
        return float((os.cpu_count() or 1) - 1)


def _is_sheet(filename: str) -> bool:
    return filename.startswith("xl/worksheets/") and filename.endswith(".xml")


def _inflated(path: Path, entry: zipfile.ZipInfo, size: int) -> Iterator[bytes]:
    """The entry's content about ``size`` bytes at a time, inflated straight from its deflate
    stream (zlib releases the GIL; zipfile's reader costs about twice as much), CRC checked."""
    if entry.flag_bits & 1 or entry.compress_type not in (zipfile.ZIP_STORED,
                                                          zipfile.ZIP_DEFLATED):
        raise Unsplittable("an encrypted or unusually compressed sheet")
    with path.open("rb") as fh:
        fh.seek(entry.header_offset)
        local = fh.read(30)
        if local[:4] != b"PK\x03\x04":
            raise Unsplittable("no local header")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        fh.seek(entry.header_offset + 30 + name_len + extra_len)
        left = entry.compress_size
        crc = 0
        inflate = zlib.decompressobj(-15) if entry.compress_type == zipfile.ZIP_DEFLATED else None
        step = max(1 << 10, size // 8)
        pending: list[bytes] = []
        held = 0
        while True:
            if inflate is not None and inflate.unconsumed_tail:
                data = inflate.decompress(inflate.unconsumed_tail, size)
            elif left > 0:
                raw = fh.read(min(step, left))
                if not raw:
                    raise Unsplittable("the sheet's data ends early")
                left -= len(raw)
                data = raw if inflate is None else inflate.decompress(raw, size)
            else:
                data = b"" if inflate is None else inflate.flush()
                left = -1
            if data:
                crc = zlib.crc32(data, crc)
                pending.append(data)
                held += len(data)
            if held >= size or left < 0:
                out = pending[0] if len(pending) == 1 else b"".join(pending)
                pending, held = [], 0
                if out:
                    yield out
                if left < 0:
                    break
    if crc != entry.CRC:
        raise Unsplittable("the sheet's CRC does not match")


def split(path: Path, entry: zipfile.ZipInfo, size: int) -> Iterator[list[Any]]:
    """The pieces of each part's sheet XML (joined, a sheet of its own): the sheet's head (up
    to ``<sheetData>``), the rows cut after a ``</row>`` about every ``size`` bytes, the tail
    (``</sheetData></worksheet>``)."""
    chunks = _inflated(path, entry, size)
    buffer = next(chunks, b"")
    root = _ROOT.search(buffer)
    if root is None:
        raise Unsplittable("no <worksheet> element at the start of the sheet")
    prefix = root.group(1)
    start = re.search(rb"<" + re.escape(prefix) + rb"sheetData(?:\s[^>]*)?>", buffer)
    if start is None:
        raise Unsplittable("no <sheetData> start tag in the first part")
    head, buffer = buffer[: start.end()], buffer[start.end():]
    tail = b"</" + prefix + b"sheetData></" + prefix + b"worksheet>"
    row_end, data_end = b"</" + prefix + b"row>", b"</" + prefix + b"sheetData>"
    first_row = re.compile(rb"\s*<" + re.escape(prefix) + rb"row\b[^>]*?\sr=\"\d+\"")
    for more in chain(chunks, [b""]):
        if more:
            cut = more.rfind(row_end)
            if cut < 0:
                buffer += more
                continue
            cut += len(row_end)
            # the rows go on from the last cut: the check looks at their start
            lead = buffer if buffer.strip() else more[:4096]
            rows: list[Any] = [buffer, memoryview(more)[:cut]]
            buffer = more[cut:]
        else:
            end = buffer.find(data_end)
            if end < 0:
                raise Unsplittable("no </sheetData> end tag")
            lead, rows = buffer[:end], [buffer[:end]]
            if not lead.strip():
                return
        if not first_row.match(lead):
            raise Unsplittable("a row without its number (r)")
        yield [head, *rows, tail]
        if not more:
            return


def _workbook(others: dict[str, bytes], sheet: str, pieces: list[Any]) -> bytes:
    """A zip of the entries, stored (not compressed), the sheet made of ``pieces``: written
    here in one join (zipfile's writer copies the sheet's XML three times)."""
    out: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    entries: list[tuple[str, list[Any]]] = [(f, [d]) for f, d in others.items()]
    for filename, content in [*entries, (sheet, pieces)]:
        name = filename.encode()
        flags = 0 if name.isascii() else 0x800
        crc, length = 0, 0
        for piece in content:
            crc, length = zlib.crc32(piece, crc), length + len(piece)
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, 0, 0, 0x21, crc, length,
                             length, len(name), 0) + name
        directory.append(struct.pack("<4s6H3L5HLL", b"PK\x01\x02", 20, 20, flags, 0, 0, 0x21,
                                     crc, length, length, len(name), 0, 0, 0, 0, 0, offset)
                         + name)
        out += [header, *content]
        offset += len(header) + length
    size = sum(map(len, directory))
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(directory), len(directory), size,
                      offset, 0)
    return b"".join([*out, *directory, end])


def _parse(data: bytes, name: str) -> Any:
    """The part parsed (in a worker thread: calamine releases the GIL while it parses; its
    rows become Python lists in the reading thread, which holds the GIL for that anyway)."""
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(name)


def _parts(path: Path, name: str, entry: zipfile.ZipInfo, others: dict[str, bytes], size: int,
           workers: int) -> Iterator[Part]:
    pool = ThreadPoolExecutor(workers, thread_name_prefix="xlsx-part")
    # parts parsed or being parsed, in order; bounded: memory for a few parts at once
    pending: queue.Queue[Future[Any] | BaseException | None] = queue.Queue(workers + 1)
    stop = threading.Event()
    parse = _parse  # the parser of this reading, whatever the module holds later

    def put(item: Future[Any] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                pending.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def feed() -> None:
        try:
            for pieces in split(path, entry, size):
                data = _workbook(others, entry.filename, pieces)
                del pieces
                if stop.is_set() or not put(pool.submit(parse, data, name)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            put(exc)
            return
        put(None)

    feeder = threading.Thread(target=feed, name="xlsx-split", daemon=True)
    feeder.start()
    try:
        while True:
            item = pending.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item if isinstance(item, Unsplittable) else Unsplittable(str(item))
            try:
                sheet = item.result()
            except Exception as exc:  # a part calamine cannot read: the sheet is read whole
                raise Unsplittable(f"a part cannot be parsed ({exc})") from exc
            first = sheet.start
            yield (0, 0, []) if first is None else (first[0], first[1], sheet.to_python())
    finally:
        # no thread outlives the reading: the feeder stops at its next part (it waits at most
        # 0.2 s on a full queue), a part being parsed is finished, the others are dropped
        stop.set()
        while feeder.is_alive():
            _drain(pending)  # unblocks the feeder
            feeder.join(0.05)
        _drain(pending)
        pool.shutdown(wait=True, cancel_futures=True)


def _drain(pending: queue.Queue[Any]) -> None:
    """Empty the queue, parts not taken dropped."""
    while True:
        try:
            left = pending.get_nowait()
        except queue.Empty:
            return
        if isinstance(left, Future):
            left.cancel()
