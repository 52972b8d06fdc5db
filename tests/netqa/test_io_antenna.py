"""MSI/Planet antenna files: read_msi / write_msi round trip and the malformed corpus."""

from pathlib import Path

import numpy as np
import pytest

from netqa.errors import AntennaPatternError, OutputExistsError
from netqa.io.antenna import read_msi, write_msi
from propagation import AntennaPattern

CORPUS = Path(__file__).resolve().parents[1] / "data" / "antenna"


def _valid_text(gain_line="GAIN 15.85 dBd", extra_header="", h=None, v=None):
    h = [f"{k} {min(12 * (min(k, 360 - k) / 65) ** 2, 25):.2f}" for k in range(360)] if h is None else h
    v = [f"{k} {k % 30 * 0.5:.1f}" for k in range(360)] if v is None else v
    return "\n".join(
        ["NAME Test 742215", "MAKE Vendor", "FREQUENCY 1800", "H_WIDTH 65", "V_WIDTH 10", "FRONT_TO_BACK 25",
         gain_line, "TILT ELECTRICAL 2", "POLARIZATION +45", "COMMENT made for tests"]
        + ([extra_header] if extra_header else []) + ["HORIZONTAL 360", *h, "VERTICAL 360", *v]
    ) + "\n"  # fmt: skip


def _write(tmp_path, text, name="a.msi"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_header_and_cuts(tmp_path):
    p = read_msi(_write(tmp_path, _valid_text()))
    assert p.name == "Test 742215" and p.make == "Vendor" and p.polarization == "+45"
    assert p.freq_mhz == 1800.0 and p.elec_tilt_deg == 2.0 and p.comment == "made for tests"
    assert p.gain_dbi == pytest.approx(15.85 + 2.15)
    assert p.h_att_db[0] == 0.0 and p.h_att_db[180] == 25.0 and p.v_att_db[31] == 0.5
    assert p.extra == (("H_WIDTH", "65"), ("V_WIDTH", "10"), ("FRONT_TO_BACK", "25"))


@pytest.mark.parametrize(
    ("gain_line", "gain_dbi"),
    [("GAIN 15.85 dBd", 18.0), ("GAIN 15.85", 18.0), ("GAIN 18 dBi", 18.0), ("gain 18 DBI", 18.0)],
    ids=["dbd", "no_unit_is_dbd", "dbi", "case_insensitive"],
)
def test_gain_units(tmp_path, gain_line, gain_dbi):
    assert read_msi(_write(tmp_path, _valid_text(gain_line))).gain_dbi == pytest.approx(gain_dbi)


def test_name_on_first_line_without_keyword(tmp_path):
    text = _valid_text().replace("NAME Test 742215", "Kathrein 80010302")
    assert read_msi(_write(tmp_path, text)).name == "Kathrein 80010302"


def test_tilt_without_angle_taken_from_vertical_cut(tmp_path):
    v = [f"{k} {abs(k - 4) if k < 90 else 30}" for k in range(360)]
    text = _valid_text(v=v).replace("TILT ELECTRICAL 2", "TILT ELECTRICAL")
    assert read_msi(_write(tmp_path, text)).elec_tilt_deg == 4.0


def test_round_trip_pattern_exact(tmp_path):
    rng = np.random.default_rng(3)
    p = AntennaPattern(
        name="RT 1", gain_dbi=17.123456789, h_att_db=rng.uniform(0, 40, 360), v_att_db=rng.uniform(0, 40, 360),
        freq_mhz=2655.5, elec_tilt_deg=3.5, mech_tilt_deg=1.0, make="M", polarization="X",
        comment="line one\nline two", extra=(("H_WIDTH", "65"), ("VENDOR_KEY", "a b")),
    )  # fmt: skip
    path = write_msi(p, tmp_path / "rt.msi")
    assert read_msi(path) == p


def test_round_trip_file_text_stable(tmp_path):
    first = read_msi(_write(tmp_path, _valid_text()))
    out1 = write_msi(first, tmp_path / "one.msi")
    out2 = write_msi(read_msi(out1), tmp_path / "two.msi")
    assert out1.read_text() == out2.read_text()


def test_write_refuses_overwrite_when_asked(tmp_path):
    p = AntennaPattern.from_sector()
    write_msi(p, tmp_path / "x.msi")
    with pytest.raises(OutputExistsError, match="x.msi"):
        write_msi(p, tmp_path / "x.msi", overwrite=False)


def test_write_leaves_no_temporary_files(tmp_path):
    write_msi(AntennaPattern.from_sector(), tmp_path / "x.msi")
    assert [f.name for f in tmp_path.iterdir()] == ["x.msi"]


def test_read_does_not_modify_file(tmp_path):
    path = _write(tmp_path, _valid_text())
    before = path.read_bytes()
    read_msi(path)
    assert path.read_bytes() == before


# ---------------------------------------------------------------- malformed corpus (committed files)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("empty.msi", r"empty\.msi: line 1: empty file"),
        ("binary.msi", r"binary\.msi: line 2: binary content \(NUL byte\)"),
        ("garbage.msi", r"garbage\.msi: line 1: control character"),
        ("no_sections.msi", r"no_sections\.msi: line 2: no HORIZONTAL section"),
    ],
    ids=["empty", "binary", "garbage", "no_sections"],
)
def test_malformed_corpus(name, match):
    with pytest.raises(AntennaPatternError, match=match):
        read_msi(CORPUS / name)


# ---------------------------------------------------------------- malformed files generated from a valid one

_H = [f"{k} 1.0" for k in range(360)]


def _lines(text):
    return text.splitlines()


def _h_start(text):
    return _lines(text).index("HORIZONTAL 360") + 1  # 0-based index of angle 0 line


def _mutate(kind):
    text = _valid_text(h=list(_H))
    lines = _lines(text)
    s = _h_start(text)
    if kind == "missing_vertical":
        lines = lines[: lines.index("VERTICAL 360")]
    elif kind == "wrong_count":
        lines[s - 1] = "HORIZONTAL 180"
    elif kind == "no_count":
        lines[s - 1] = "HORIZONTAL"
    elif kind == "duplicate_angle":
        lines[s + 10] = "9 1.0"
    elif kind == "missing_angle":
        del lines[s + 10]
    elif kind == "extra_point":
        lines.insert(s + 360, "360 1.0")
    elif kind == "non_numeric_value":
        lines[s + 5] = "5 abc"
    elif kind == "non_numeric_angle":
        lines[s + 5] = "five 1.0"
    elif kind == "negative":
        lines[s + 7] = "7 -3.5"
    elif kind == "angle_out_of_range":
        lines[s + 7] = "400 1.0"
    elif kind == "fractional_angle":
        lines[s + 7] = "7.5 1.0"
    elif kind == "three_columns":
        lines[s + 7] = "7 1.0 2.0"
    elif kind == "gain_unit":
        lines[lines.index("GAIN 15.85 dBd")] = "GAIN 15.85 dBm"
    elif kind == "gain_value":
        lines[lines.index("GAIN 15.85 dBd")] = "GAIN high dBi"
    elif kind == "tilt_kind":
        lines[lines.index("TILT ELECTRICAL 2")] = "TILT SIDEWAYS 2"
    elif kind == "second_horizontal":
        lines += ["HORIZONTAL 360", *_H]
    elif kind == "nan_value":
        lines[s + 3] = "3 nan"
    return "\n".join(lines) + "\n", s


MALFORMED = [
    ("missing_vertical", lambda s: r"line 371: no VERTICAL section \(end of file\)"),
    ("wrong_count", lambda s: rf"line {s}: HORIZONTAL section declares 180 points; the MSI format needs exactly 360"),
    ("no_count", lambda s: rf"line {s}: HORIZONTAL header 'HORIZONTAL' must be 'HORIZONTAL 360'"),
    ("duplicate_angle", lambda s: rf"line {s + 11}: HORIZONTAL angle 9 duplicated \(first at line {s + 10}\)"),
    ("missing_angle", lambda s: rf"line {s + 360}: HORIZONTAL section has only 359 of 360 points before 'VERTICAL'; missing angles 10"),
    ("extra_point", lambda s: rf"line {s + 361}: data line '360 1.0' outside a HORIZONTAL/VERTICAL section"),
    ("non_numeric_value", lambda s: rf"line {s + 6}: HORIZONTAL attenuation 'abc' at angle 5 is not a finite number"),
    ("non_numeric_angle", lambda s: rf"line {s + 6}: HORIZONTAL angle 'five' is not a number"),
    ("negative", lambda s: rf"line {s + 8}: HORIZONTAL attenuation -3.5 at angle 7 is negative"),
    ("angle_out_of_range", lambda s: rf"line {s + 8}: HORIZONTAL angle 400 is out of range 0..359"),
    ("fractional_angle", lambda s: rf"line {s + 8}: HORIZONTAL angle 7.5 is not a whole degree"),
    ("three_columns", lambda s: rf"line {s + 8}: HORIZONTAL data line '7 1.0 2.0' must be '<angle> <attenuation dB>'"),
    ("gain_unit", lambda s: r"line 7: unknown GAIN unit 'dBm'; allowed: dBd \(the default\) or dBi"),
    ("gain_value", lambda s: r"line 7: GAIN value 'high dBi' is not a number"),
    ("tilt_kind", lambda s: r"line 8: TILT kind 'SIDEWAYS' unknown; allowed: ELECTRICAL, MECHANICAL"),
    ("second_horizontal", lambda s: r"line 733: second HORIZONTAL section"),
    ("nan_value", lambda s: rf"line {s + 4}: HORIZONTAL attenuation 'nan' at angle 3 is not a finite number"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "match"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_generated(tmp_path, kind, match):
    text, s = _mutate(kind)
    path = _write(tmp_path, text, f"{kind}.msi")
    with pytest.raises(AntennaPatternError, match=rf"{kind}\.msi: " + match(s)):
        read_msi(path)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(AntennaPatternError, match=r"nope\.msi: cannot read antenna pattern file"):
        read_msi(tmp_path / "nope.msi")


def test_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        read_msi(CORPUS / "empty.msi")
