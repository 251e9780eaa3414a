"""Read a catalog file of any supported format: the one entry point for ingest.

The format is recognised from the content, never from the file name, and
gzip from its magic bytes, so ``catalog.txt``, ``catalog.gz`` and a
Space-Track download saved under any name all read the same.

=============  ==========================================================
format         recognised by
=============  ==========================================================
``tle``        a line starting ``1 `` followed by one starting ``2 ``
``omm-kvn``    first keyword ``CCSDS_OMM_VERS``
``omm-xml``    root element ``<omm>`` or ``<ndm>``
``omm-json``   a JSON list (or object) of records with ``MEAN_MOTION`` or ``TLE_LINE1``
``omm-csv``    CSV header with ``NORAD_CAT_ID`` and ``MEAN_MOTION`` or ``TLE_LINE1``
``satcat-csv`` CSV header with ``NORAD_CAT_ID`` and ``OBJECT_TYPE``/``OWNER``
``ucs-csv``    CSV header with ``NORAD Number`` and ``Country of Operator/Owner``
=============  ==========================================================
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

from kizuna.catalog.elements import ParseResult
from kizuna.catalog.omm import parse_omm_csv, parse_omm_json, parse_omm_kvn, parse_omm_xml
from kizuna.catalog.satcat import parse_satcat_csv, parse_ucs_csv
from kizuna.catalog.tle import parse_tle
from kizuna.errors import UnusableInputError

__all__ = ["FORMATS", "detect_format", "read_catalog", "read_catalog_text"]

PARSERS: dict[str, Callable[..., ParseResult]] = {
    "tle": parse_tle,
    "omm-kvn": parse_omm_kvn,
    "omm-xml": parse_omm_xml,
    "omm-json": parse_omm_json,
    "omm-csv": parse_omm_csv,
    "satcat-csv": parse_satcat_csv,
    "ucs-csv": parse_ucs_csv,
}
FORMATS = tuple(PARSERS)

_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_CHARS = 65536  # detection looks at the start of the text only
_CCSDS_KVN = re.compile(r"CCSDS_([A-Z]{3})_VERS\s*=")
_XML_ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_OTHER_CCSDS = {"OEM": "ephemeris (OEM)", "OPM": "state vector (OPM)", "CDM": "conjunction (CDM)",
                "OCM": "orbit comprehensive (OCM)", "TDM": "tracking data (TDM)",
                "APM": "attitude (APM)", "AEM": "attitude (AEM)", "RDM": "re-entry (RDM)"}


def _significant_lines(text: str, limit: int) -> list[str]:
    """The first ``limit`` lines that are neither blank nor ``#`` comments."""
    found: list[str] = []
    for line in text[:_SNIFF_CHARS].split("\n"):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            found.append(line.rstrip("\r"))
            if len(found) >= limit:
                break
    return found


def _skip_xml_prolog(text: str) -> str:
    """Text from the root element on: past ``<?...?>``, comments and ``<!DOCTYPE>``."""
    body = text
    for _ in range(100):  # bounded: a real prolog has a handful of parts
        body = body.lstrip()
        if body.startswith("<?"):
            end, width = body.find("?>"), 2
        elif body.startswith("<!--"):
            end, width = body.find("-->"), 3
        elif body.startswith("<!"):
            end, width = body.find(">"), 1
        else:
            break
        if end < 0:
            return ""
        body = body[end + width:]
    return body


def detect_format(text: str, *, file: str = "<input>") -> str:
    """Name the catalog format of ``text`` from its content.

    Parameters
    ----------
    text : str
        Decoded file content.
    file : str
        Name used in the error message.

    Returns
    -------
    str
        One of ``"tle"``, ``"omm-kvn"``, ``"omm-xml"``, ``"omm-json"``,
        ``"omm-csv"``, ``"satcat-csv"``, ``"ucs-csv"``.

    Raises
    ------
    UnusableInputError
        If the text is empty or in no supported format (other CCSDS messages
        such as OEM or CDM are named in the message).
    """
    head = text[:_SNIFF_CHARS].lstrip("\ufeff \t\r\n")
    if not head:
        raise UnusableInputError("the input is empty", file=file, field="format")
    first = head[0]
    if first == "<":
        root = _XML_ROOT.match(_skip_xml_prolog(head))
        tag = root.group(1) if root else ""
        if tag.lower() in ("omm", "ndm"):
            return "omm-xml"
        kind = _OTHER_CCSDS.get(tag.upper())
        what = f"a CCSDS {kind} message" if kind else f"XML with root <{tag or '?'}>"
        raise UnusableInputError(f"{what}, not a catalog: Kizuna reads orbits from TLE and OMM",
                                 file=file, field="format")
    if first in "[{":
        if "MEAN_MOTION" in head or "TLE_LINE1" in head:
            return "omm-json"
        raise UnusableInputError("JSON without MEAN_MOTION or TLE_LINE1: not OMM records (Kizuna "
                                 "reads SATCAT metadata from CSV only)", file=file, field="format")
    lines = _significant_lines(head, 12)
    kvn = _CCSDS_KVN.match(lines[0].strip()) if lines else None
    if kvn:
        if kvn.group(1) == "OMM":
            return "omm-kvn"
        kind = _OTHER_CCSDS.get(kvn.group(1), kvn.group(1))
        raise UnusableInputError(f"a CCSDS {kind} message, not a catalog: Kizuna reads orbits "
                                 "from TLE and OMM", file=file, field="format")
    top = lines[:2]
    if any("NORAD Number" in line and "Country of Operator/Owner" in line for line in top):
        return "ucs-csv"
    header = {cell.strip().strip('"').upper() for cell in lines[0].split(",")} if lines else set()
    if "NORAD_CAT_ID" in header:
        if header & {"MEAN_MOTION", "TLE_LINE1"}:
            return "omm-csv"
        if header & {"OBJECT_TYPE", "OWNER", "LAUNCH_DATE", "OPS_STATUS_CODE"}:
            return "satcat-csv"
    for this, following in pairwise(lines):
        if this.startswith("1 ") and following.startswith("2 "):
            return "tle"
    raise UnusableInputError(
        "unknown format: expected TLE/3LE, CCSDS OMM (KVN, XML, JSON, CSV), a CelesTrak SATCAT "
        "CSV or the UCS Satellite Database CSV", file=file, field="format")


def _decode(data: bytes, file: str) -> str:
    """UTF-8 (with or without BOM), else Latin-1; binary data is refused."""
    if b"\x00" in data[:_SNIFF_CHARS]:
        raise UnusableInputError("binary data (NUL bytes), not a text catalog", file=file,
                                 field="encoding")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Latin-1 maps every byte, so older exports still read; the parsers'
        # checks then catch anything that is not a catalog.
        text = data.decode("latin-1")
    text = text.lstrip("\ufeff")
    # Control characters other than tab/CR/LF do not occur in catalogs.
    sample = text[:_SNIFF_CHARS]
    bad = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if bad > max(8, len(sample) // 100):
        raise UnusableInputError("binary data (control characters), not a text catalog",
                                 file=file, field="encoding")
    return text


def read_catalog_text(text: str, *, file: str = "<input>") -> ParseResult:
    """Detect the format of in-memory text and parse it.

    Parameters
    ----------
    text : str
        Decoded content.
    file : str
        Name used in the result and in rejections.

    Returns
    -------
    ParseResult
        As the format's parser returns it, with ``sha256`` the hash of
        ``text`` encoded as UTF-8 (the bytes a file holding it would have).

    Raises
    ------
    UnusableInputError
        Empty input or unknown format.
    """
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    text = text.removeprefix("\ufeff")
    fmt = detect_format(text, file=file)
    result = PARSERS[fmt](text, file=file)
    result.sha256 = digest
    return result


def read_catalog(path: str | Path) -> ParseResult:
    """Read, decompress, decode, recognise and parse one catalog file.

    Parameters
    ----------
    path : str or Path
        Any supported format, gzip-compressed or not (recognised from the
        magic bytes, not the name).

    Returns
    -------
    ParseResult
        ``file`` is ``str(path)`` as given; ``sha256`` the hex SHA-256 of the
        file's bytes as stored on disk (compressed if it is), for provenance.

    Raises
    ------
    UnusableInputError
        If the file cannot be read or decompressed, is empty, is binary, or
        is in no supported format.
    """
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UnusableInputError(f"cannot read the file: {exc.strerror or exc}", file=file,
                                 field="file") from None
    digest = hashlib.sha256(raw).hexdigest()
    data = raw
    if raw[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise UnusableInputError(f"corrupt gzip data: {exc}", file=file,
                                     field="gzip") from None
    if not data.strip():
        raise UnusableInputError("the file is empty", file=file, field="file")
    text = _decode(data, file)
    fmt = detect_format(text, file=file)
    result = PARSERS[fmt](text, file=file)
    result.sha256 = digest
    return result
