"""Property: corrupted input gives rejections or an InputError, never any other exception.

Each parser gets small valid real inputs mutated at random (characters
substituted, deleted or inserted, truncation, duplicated and swapped lines).
Whatever comes out must be a ParseResult whose counts add up (every record is
either kept or rejected, every rejection names the file), or a
:class:`kizuna.errors.InputError`. A stray ``IndexError`` or ``ValueError``
here would abort a whole ingest run on one bad byte.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.catalog.elements import ParseResult
from kizuna.catalog.omm import parse_omm_csv, parse_omm_json, parse_omm_kvn, parse_omm_xml
from kizuna.catalog.reader import detect_format, read_catalog_text
from kizuna.catalog.satcat import parse_satcat_csv, parse_ucs_csv
from kizuna.catalog.tle import parse_tle
from kizuna.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
OMM = DATA / "ccsds" / "omm"
FILE = "fuzz.in"


def _head(path: Path, n_lines: int) -> str:
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    return "\n".join(text.split("\n")[:n_lines]) + "\n"


def _omm_element(path: Path) -> str:
    """The ``<omm ...>...</omm>`` element of an XML file, to nest in an ``<ndm>``."""
    text = path.read_text(encoding="utf-8")
    return text[text.index("<omm"):text.index("</omm>") + len("</omm>")] + "\n"


SEEDS: dict[str, str] = {
    # old style, Alpha-5 and current style 3LE records
    "tle": _head(DATA / "catalogs" / "spacetrack_3le_full_2019-03-23.txt.gz", 6)
    + "0 TBA - TO BE ASSIGNED\n"
    "1 T0288U          23247.54771900  .00000040  00000-0  11838-3 0  9997\n"
    "2 T0288  50.0000 100.0000 0001000  90.0000 270.0000 15.00000000 12341\n"
    + _head(DATA / "catalogs" / "spacetrack_3le_leo_payloads_2026-06-10.txt.gz", 3),
    "omm-kvn": _head(OMM / "ccsds-ndm" / "omm1_st.kvn", 60)
    + _head(OMM / "orekit" / "OMMExample2.txt", 60),
    "omm-xml": "<ndm>\n" + _omm_element(OMM / "ccsds-ndm" / "omm1_st.xml")
    + _omm_element(OMM / "orekit" / "OMM-with-units.xml") + "</ndm>\n",
    "omm-json": _head(OMM / "ccsds-ndm" / "omm1_st.json", 80).rstrip().rstrip("]")
    + "," + _head(OMM / "ccsds-ndm" / "omm1_ct.json", 40).lstrip().lstrip("["),
    "omm-csv": _head(DATA / "catalogs" / "celestrak_active_gp_2026-07-12.csv.gz", 4),
    "omm-csv-tle": _head(DATA / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz", 3),
    "satcat-csv": _head(DATA / "satcat" / "celestrak_satcat_handmade.csv", 12),
    "ucs-csv": _head(DATA / "satcat" / "UCS-Satellite-Database_2021-pandas-export.csv.gz", 4),
}

PARSERS: dict[str, Callable[..., ParseResult]] = {
    "tle": parse_tle,
    "omm-kvn": parse_omm_kvn,
    "omm-xml": parse_omm_xml,
    "omm-json": parse_omm_json,
    "omm-csv": parse_omm_csv,
    "omm-csv-tle": parse_omm_csv,
    "satcat-csv": parse_satcat_csv,
    "ucs-csv": parse_ucs_csv,
}

# Characters that matter to these formats, plus arbitrary Unicode (non-ASCII
# digits that float() would accept, separators, NUL, line breaks of all kinds).
_CHARS = st.one_of(
    st.sampled_from(list("0123456789-+.,;: \t\n\r\"'=[]{}<>/#_eEIOxZ\x00\x0b\u2028\u0661é")),
    st.characters(),
)


@st.composite
def _mutated(draw: st.DrawFn, seed: str) -> str:
    text = seed
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["sub", "sub", "del", "ins", "trunc", "dup", "swap"]))
        n = len(text)
        if op == "sub" and n:
            i = draw(st.integers(0, n - 1))
            text = text[:i] + draw(_CHARS) + text[i + 1:]
        elif op == "del" and n:
            i = draw(st.integers(0, n - 1))
            text = text[:i] + text[i + draw(st.integers(1, 20)):]
        elif op == "ins":
            i = draw(st.integers(0, n))
            text = text[:i] + draw(st.text(_CHARS, min_size=1, max_size=12)) + text[i:]
        elif op == "trunc":
            text = text[:draw(st.integers(0, n))]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if op == "dup":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


def _check(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    assert all(r.file == FILE for r in result.rejected)
    kept = len(result.objects) if result.format in ("satcat-csv", "ucs-csv") \
        else len(result.element_sets)
    assert result.n_records == kept + len(result.rejected)


# Hypothesis budget: 8 parsers + reader at ~120 examples of small texts, ~10 s in all.
_SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_valid_seed_parses_cleanly(kind):
    result = PARSERS[kind](SEEDS[kind], file=FILE)
    assert result.rejected == []
    assert result.n_records >= 2
    assert detect_format(SEEDS[kind]) == kind.removesuffix("-tle")


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_mutated_input_never_raises_anything_but_input_error(kind):
    parser = PARSERS[kind]

    @_SETTINGS
    @given(_mutated(SEEDS[kind]))
    def run(text: str) -> None:
        try:
            result = parser(text, file=FILE)
        except InputError as exc:
            assert exc.file == FILE
        else:
            _check(result)

    run()


@_SETTINGS
@given(st.sampled_from(sorted(SEEDS)).flatmap(lambda kind: _mutated(SEEDS[kind])))
def test_reader_on_mutated_input_of_any_format(text):
    try:
        fmt = detect_format(text, file=FILE)
    except InputError:
        fmt = None
    try:
        result = read_catalog_text(text, file=FILE)
    except InputError as exc:
        assert exc.file == FILE
    else:
        assert result.format == fmt
        _check(result)
