"""The EDI connector: supplier messages from an inbox folder (``workbench sources add NAME edi
inbox=DIR [partners=SENDER=SUPPLIER,...]``).

It is a *message inbox*, not a record source: its ``pull`` yields nothing, and
``workbench sync --source NAME`` hands it to :func:`workbench.services.edi.sync_inbox`, which
takes each file all or nothing (see that module and docs/edi.md). The connector does
the reading (:meth:`decode`: EDIFACT or X12, told apart by the first segment) and the mapping
onto the cache's facts; the service archives, decides the outcome and applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from planner_connectors.edi import edifact, x12
from planner_connectors.edi.mapping import MappedFile, envelope, map_interchange, parse_partners
from planner_connectors.edi.model import EdiError, Interchange
from workbench.connect.inbox import MessageFacts
from workbench.connect.port import Batch, Capability, CheckResult, ConnectorBase

#: file names the inbox takes (anything else, e.g. a half-copied ``.tmp``, is left alone)
SUFFIXES = (".edi", ".txt", ".x12", ".edifact", ".dat", ".855", ".856", ".ordrsp", ".desadv")


class EdiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    inbox: str = Field(min_length=1, description="the folder suppliers' message files arrive in")
    partners: str = Field("", description="SENDER=SUPPLIER pairs, comma separated (sender IDs "
                                          "that are not supplier codes)")

    @field_validator("partners")
    @classmethod
    def _pairs(cls, value: str) -> str:
        parse_partners(value)
        return value


def read_interchange(data: bytes) -> Interchange:
    """The interchange in a file's bytes; raises EdiError only (never anything else)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("latin-1")
        if any(ord(c) < 9 for c in text):
            raise EdiError(f"not a text file (byte {exc.start})", segment=None, element="file",
                           expected="EDIFACT or X12 text") from None
    start = text.lstrip("\ufeff\r\n ")[:3]
    try:
        if start == "ISA":
            return x12.read(text)
        if start in ("UNA", "UNB"):
            return edifact.read(text)
    except EdiError:
        raise
    except Exception as exc:  # noqa: BLE001 - the reader's promise: only its own error leaves it
        raise EdiError(f"unreadable ({type(exc).__name__}: {exc})", expected="a well-formed message"
                       ) from None
    raise EdiError(f"starts with {start!r}", segment=1, element="header",
                   expected="UNA/UNB (EDIFACT) or ISA (X12)")


class EdiConnector(ConnectorBase):
    name: ClassVar[str] = "edi"
    capabilities: ClassVar[Capability] = Capability.PULL | Capability.MESSAGE_INBOX
    options: ClassVar[type[EdiOptions]] = EdiOptions
    read_only_reason: ClassVar[str] = (
        "EDI messages are inbound only: decisions cannot be written back"
    )

    def __init__(self, inbox: str | Path, partners: str = "") -> None:
        self.inbox = Path(inbox)
        self.partners = parse_partners(partners)

    def check(self) -> CheckResult:
        if not self.inbox.is_dir():
            return CheckResult(False, f"EDI inbox {self.inbox} is not a folder")
        return CheckResult(True, f"{len(self.inbox_files())} message files in {self.inbox}")

    def entities(self) -> list[str]:
        return []

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        return iter(())

    def inbox_files(self) -> list[Path]:
        """The message files waiting, oldest first (then by name)."""
        files = [p for p in self.inbox.iterdir()
                 if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def decode(self, data: bytes, facts: MessageFacts) -> MappedFile:
        """Read and map one file; raises EdiError (the file is rejected) and nothing else."""
        interchange = read_interchange(data)
        try:
            return map_interchange(interchange, facts, self.partners)
        except EdiError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise EdiError(f"could not be mapped ({type(exc).__name__}: {exc})",
                           envelope=envelope(interchange)) from None

