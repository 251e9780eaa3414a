"""read_catalog / read_catalog_text / detect_format: format from content, gzip from bytes."""

from __future__ import annotations

import gzip
import hashlib
import pkgutil
import random
from pathlib import Path

import pytest

from kizuna.catalog.reader import FORMATS, detect_format, read_catalog, read_catalog_text
from kizuna.errors import UnusableInputError

DATA = Path(__file__).resolve().parents[1] / "data"
OMM = DATA / "ccsds" / "omm"

ISS_3LE = (
    "0 ISS (ZARYA)\n"
    "1 25544U 98067A   20001.25776601  .00001469  00000-0  34254-4 0  9999\n"
    "2 25544  51.6446  99.4171 0005055  90.7711   3.7257 15.49530329205988\n"
)


def _text(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (DATA / "catalogs" / "spacetrack_3le_full_2019-03-23.txt.gz", "tle"),
        (OMM / "ccsds-ndm" / "omm1_st.kvn", "omm-kvn"),  # starts with a blank line
        (OMM / "orekit" / "OMMExample3.txt", "omm-kvn"),
        (OMM / "ccsds-ndm" / "omm_combined.xml", "omm-xml"),  # <ndm> without <?xml?>
        (OMM / "orekit" / "OMM-with-units.xml", "omm-xml"),
        (OMM / "ccsds-ndm" / "omm1_ct.json", "omm-json"),
        (DATA / "catalogs" / "celestrak_active_gp_2026-07-12.csv.gz", "omm-csv"),
        (DATA / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz", "omm-csv"),
        (DATA / "satcat" / "celestrak_satcat_handmade.csv", "satcat-csv"),
        (DATA / "satcat" / "UCS-Satellite-Database_2021-pandas-export.csv.gz", "ucs-csv"),
    ],
)
def test_detect_format_of_real_files(path, fmt):
    assert fmt in FORMATS
    assert detect_format(_text(path)) == fmt


def test_detect_two_line_tle_and_vallado_comments():
    assert detect_format(ISS_3LE.split("\n", 1)[1]) == "tle"
    assert detect_format(pkgutil.get_data("sgp4", "SGP4-VER.TLE").decode("ascii")) == "tle"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("  \n\n", "empty"),
        ("CCSDS_OEM_VERS = 2.0\n", "OEM"),
        ("CCSDS_CDM_VERS = 1.0\n", "CDM"),
        ('<?xml version="1.0"?>\n<!-- c -->\n<oem id="CCSDS_OEM_VERS"/>', "OEM"),
        ("<html><body>hi</body></html>", "<html>"),
        ('{"lastUpdated": "2026-08-11"}', "not OMM"),
        ("date,event\n2020-01-01,reboost\n", "unknown format"),
        ("hello world\n", "unknown format"),
    ],
)
def test_unknown_and_foreign_formats_are_unusable(text, words):
    with pytest.raises(UnusableInputError) as info:
        detect_format(text, file="in.x")
    assert words in str(info.value) and info.value.file == "in.x"


def test_read_catalog_detects_gzip_from_bytes_not_name(tmp_path):
    source = DATA / "catalogs" / "debris-clouds" / "gp-debris-iridium33.json.gz"
    disguised = tmp_path / "iridium.txt"  # gzip bytes, misleading name
    disguised.write_bytes(source.read_bytes())
    plain = tmp_path / "iss.gz"  # plain text, misleading name
    plain.write_text(ISS_3LE)
    result = read_catalog(disguised)
    assert (result.format, len(result.element_sets)) == ("omm-json", 111)
    assert result.file == str(disguised)
    assert result.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    result = read_catalog(str(plain))
    assert result.file == str(plain)
    assert [es.name for es in result.element_sets] == ["ISS (ZARYA)"]
    assert result.sha256 == hashlib.sha256(ISS_3LE.encode()).hexdigest()


def test_latin1_fallback_and_bom(tmp_path):
    path = tmp_path / "latin1.tle"
    path.write_bytes(ISS_3LE.replace("ISS (ZARYA)", "SAT\xe9LLITE").encode("latin-1"))
    assert read_catalog(path).element_sets[0].name == "SATéLLITE"
    path.write_bytes(b"\xef\xbb\xbf" + ISS_3LE.encode())
    assert read_catalog(path).element_sets[0].name == "ISS (ZARYA)"


def test_unusable_files_name_the_file_and_why(tmp_path):
    rng = random.Random(0)
    cases: dict[str, bytes | None] = {
        "missing.tle": None,
        "empty.tle": b"",
        "blank.tle": b" \n \n",
        "binary.bin": rng.randbytes(64) + b"\x00" + rng.randbytes(4000),
        "controls.bin": bytes(range(1, 9)) * 500,
        "cut.gz": gzip.compress(ISS_3LE.encode() * 50)[:-30],
        "notes.txt": b"meeting notes\nnothing here\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(UnusableInputError) as info:
            read_catalog(path)
        assert info.value.file == str(path), name
    with pytest.raises(UnusableInputError, match="cannot read"):
        read_catalog(tmp_path)  # a directory


def test_read_catalog_text_in_memory():
    result = read_catalog_text(ISS_3LE, file="paste")
    assert (result.file, result.format, len(result.element_sets)) == ("paste", "tle", 1)
    assert result.sha256 == hashlib.sha256(ISS_3LE.encode()).hexdigest()
    rejected = read_catalog_text(ISS_3LE.replace("9999\n", "9990\n"), file="paste")
    assert [(r.file, r.line, r.field) for r in rejected.rejected] == [("paste", 2, "checksum")]
    with pytest.raises(UnusableInputError):
        read_catalog_text("", file="paste")
