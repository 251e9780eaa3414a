"""Exceptions of Kizuna, and the record of one rejected input record.

Caller mistakes raise a :class:`KizunaError` subclass whose message says how
to fix the call. A bad record inside an otherwise usable file is *data*: the
parser keeps going and reports a :class:`Rejection` for it.
"""

from __future__ import annotations

from dataclasses import dataclass


class KizunaError(Exception):
    """Base class of every error Kizuna raises on purpose."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """One input record that could not be used.

    ``line`` is the 1-based line number for text formats; ``record`` is the
    0-based record index for formats without meaningful lines (JSON, XML).
    """

    file: str
    line: int | None
    record: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.record is not None:
            where += f" (record {self.record})"
        return f"{where}: {self.field}: {self.reason}"


class InputError(KizunaError, ValueError):
    """An input record or file is invalid; carries file, line/record and field."""

    def __init__(
        self,
        reason: str,
        *,
        file: str = "<input>",
        line: int | None = None,
        record: int | None = None,
        field: str = "-",
    ) -> None:
        self.rejection = Rejection(file, line, record, field, reason)
        super().__init__(str(self.rejection))

    @property
    def file(self) -> str:
        return self.rejection.file

    @property
    def line(self) -> int | None:
        return self.rejection.line

    @property
    def record(self) -> int | None:
        return self.rejection.record

    @property
    def field(self) -> str:
        return self.rejection.field

    @property
    def reason(self) -> str:
        return self.rejection.reason


class TleFormatError(InputError):
    """A TLE/3LE line does not follow the fixed-column format."""


class OmmFormatError(InputError):
    """An OMM record (KVN, XML, JSON or CSV) is missing or has a bad field."""


class SatcatFormatError(InputError):
    """A SATCAT / owner-database row is malformed."""


class UnusableInputError(InputError):
    """The whole input cannot be used: unreadable, empty or of an unknown format."""


class StoreError(KizunaError):
    """The store could not be opened, migrated or written."""


class StoreUnavailableError(StoreError):
    """No usable store at a URL: no SQLite file, an unreachable database, or another
    schema revision than this version's (see ``open_existing_store``)."""


class ConfigError(KizunaError):
    """A setting or option has a value Kizuna cannot use."""


class CdmFormatError(InputError):
    """A CCSDS Conjunction Data Message (KVN or XML) is malformed or lacks a mandatory keyword."""
