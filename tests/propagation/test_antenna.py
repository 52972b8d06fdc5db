"""Antenna patterns: 3GPP parametric sector and measured cuts (AntennaPattern)."""

import csv
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import propagation
from propagation import AntennaPattern, ValidityRangeWarning, sector_gain_db
from propagation.antenna import _sector_gain_db
from propagation.antenna_pattern import _pattern_gain_db

REF = Path(__file__).resolve().parents[2] / "testdata" / "reference" / "antenna_sector_3gpp.csv"


def _rows():
    with REF.open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return [pytest.param(r, id=r["case"]) for r in rows]


# ---------------------------------------------------------------- 3GPP sector


@pytest.mark.parametrize("row", _rows())
def test_sector_reference_values(row):
    args = [float(row[k]) for k in ("az_off_deg", "elev_deg", "downtilt_deg", "hpbw_h_deg", "hpbw_v_deg", "sla_v_db", "am_db")]
    assert sector_gain_db(*args) == pytest.approx(float(row["gain_db"]), abs=1e-12)


def _sector_oracle(az, elev, tilt, h3, v3, sla, am):
    phi = (az + 180.0) % 360.0 - 180.0
    a_h = -min(12.0 * (phi / h3) ** 2, am)
    theta = -elev  # angle below the horizon
    a_v = -min(12.0 * ((theta - tilt) / v3) ** 2, sla)
    return -min(-(a_h + a_v), am)


def test_sector_kernel_matches_oracle_on_random_angles():
    rng = np.random.default_rng(814)
    n = 400
    args = (
        rng.uniform(-720.0, 720.0, n), rng.uniform(-90.0, 90.0, n), rng.uniform(-10.0, 20.0, n),
        rng.uniform(30.0, 120.0, n), rng.uniform(4.0, 65.0, n), rng.uniform(10.0, 30.0, n), rng.uniform(15.0, 40.0, n),
    )  # fmt: skip
    got = sector_gain_db(*args)
    want = [_sector_oracle(*a) for a in zip(*args)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert _sector_gain_db(10.0, -3.0, 2.0, 65.0, 10.0, 20.0, 25.0) == pytest.approx(
        _sector_oracle(10.0, -3.0, 2.0, 65.0, 10.0, 20.0, 25.0)
    )


def test_sector_never_above_zero_and_peak_at_boresight():
    az, el = np.meshgrid(np.arange(-180.0, 181.0, 5.0), np.arange(-90.0, 91.0, 5.0))
    g = sector_gain_db(az, el, 6.0)
    assert g.max() <= 0.0
    assert sector_gain_db(0.0, -6.0, 6.0) == 0.0
    assert g.min() == -25.0


def test_sector_symmetric_in_azimuth():
    az = np.linspace(0.0, 180.0, 91)
    np.testing.assert_array_equal(sector_gain_db(az, -3.0, 4.0), sector_gain_db(-az, -3.0, 4.0))


def test_sector_downtilt_moves_vertical_peak_below_horizon():
    elev = np.arange(-30.0, 30.5, 0.5)
    g = sector_gain_db(0.0, elev, 7.0)
    assert elev[np.argmax(g)] == -7.0


def test_sector_is_exported():
    assert propagation.sector_gain_db is sector_gain_db


def test_sector_elevation_out_of_range_raises_when_strict():
    with pytest.raises(ValueError, match=r"elev_deg outside the validity range.*\[-90, 90\] deg, got 95"):
        sector_gain_db(0.0, 95.0)


def test_sector_elevation_out_of_range_warns_when_not_strict():
    with pytest.warns(ValidityRangeWarning, match="elev_deg"):
        g = sector_gain_db(0.0, 95.0, strict=False)
    assert g == -20.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"hpbw_h_deg": 0.0}, "hpbw_h_deg must be > 0"), ({"hpbw_v_deg": 200.0}, "hpbw_v_deg outside"),
     ({"am_db": -1.0}, "am_db outside"), ({"az_off_deg": np.nan}, "az_off_deg must be finite")],
    ids=["hpbw_h_zero", "hpbw_v_too_wide", "am_negative", "az_nan"],
)  # fmt: skip
def test_sector_bad_arguments(kwargs, match):
    args = {"az_off_deg": 0.0, "elev_deg": 0.0} | kwargs
    with pytest.raises(ValueError, match=match):
        sector_gain_db(**args)


def test_sector_inputs_not_modified():
    az = np.array([0.0, 400.0, -200.0])
    before = az.copy()
    sector_gain_db(az, 0.0)
    np.testing.assert_array_equal(az, before)


# ---------------------------------------------------------------- measured patterns


def _asymmetric_pattern(tilt_deg=0.0):
    """A made-up measured pattern with no symmetry (so that sign errors show)."""
    k = np.arange(360.0)
    rng = np.random.default_rng(7)
    base = AntennaPattern.from_sector(downtilt_deg=0.0)
    h = base.h_att_db + 0.5 * np.sin(np.radians(k)) ** 2 * (k < 180) + rng.uniform(0, 0.3, 360) * (k > 200)
    v = base.v_att_db + 0.4 * (np.sin(np.radians(3 * k)) + 1.0)
    h[0], v[0] = 0.0, 0.0
    v[180] = h[180]  # the cuts agree where they cross (front and back horizon), as in a real file
    return AntennaPattern(name="asym", gain_dbi=16.0, h_att_db=h, v_att_db=v, elec_tilt_deg=tilt_deg)


def _interp(cut, angle):
    return np.interp(np.mod(angle, 360.0), np.arange(361.0), np.r_[cut, cut[0]])


def _pattern_oracle(h, v, az, el, mech, elec, method):
    """Slow reference: rotation matrix, numpy interpolation, bilinear written out."""
    t = math.radians(mech)
    rot = np.array([[math.cos(t), 0.0, -math.sin(t)], [0.0, 1.0, 0.0], [math.sin(t), 0.0, math.cos(t)]])
    d = np.array([math.cos(math.radians(el)) * math.cos(math.radians(az)),
                  math.cos(math.radians(el)) * math.sin(math.radians(az)), math.sin(math.radians(el))])  # fmt: skip
    x, y, z = rot @ d
    a = math.degrees(math.atan2(y, x))
    e = math.degrees(math.asin(max(-1.0, min(1.0, z))))
    eb = max(-90.0, min(90.0, e + elec))
    H = _interp(h, a)
    vf = _interp(v, -eb)
    vb = _interp(v, 180.0 + eb)
    if method == "summing":
        w = abs(a) / 180.0
        att = H + (1 - w) * (vf - h[0]) + w * (vb - h[180])
        return -min(max(att, 0.0), max(h.max(), v.max()))
    vp = v[90] if eb < 0 else v[270]
    p1, t1 = abs(a), abs(eb)
    p2, t2 = 180.0 - p1, 90.0 - t1
    g_phi = (p2 * vf + p1 * vb) / 180.0  # linear in azimuth between the front and back vertical cuts
    g_theta = (t2 * H + t1 * vp) / 90.0  # linear in elevation between the horizontal cut and the pole
    w_phi = 180.0 * t1 * t2 / 90.0**2
    w_theta = 90.0 * p1 * p2 / 180.0**2
    if w_phi + w_theta == 0.0:
        return -(vp if t2 == 0.0 else H)
    return -(w_phi * g_phi + w_theta * g_theta) / (w_phi + w_theta)


@pytest.mark.parametrize("method", ["weighted", "summing"])
def test_pattern_kernel_matches_oracle_on_random_directions(method):
    p = _asymmetric_pattern()
    rng = np.random.default_rng(2001)
    n = 300
    az, el = rng.uniform(-180.0, 180.0, n), rng.uniform(-89.0, 89.0, n)
    mech, elec = rng.uniform(-10.0, 15.0, n), rng.uniform(0.0, 12.0, n)
    got = p.gain_db(az, el, mech, elec, method=method)
    want = [_pattern_oracle(p.h_att_db, p.v_att_db, *args, method) for args in zip(az, el, mech, elec)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("method", ["weighted", "summing"])
def test_pattern_reproduces_horizontal_cut(method):
    p = _asymmetric_pattern()
    az = np.r_[np.arange(-179.0, 181.0), np.arange(-179.5, 180.0, 1.0)]
    np.testing.assert_allclose(p.gain_db(az, 0.0, method=method), -_interp(p.h_att_db, az), atol=1e-12)


@pytest.mark.parametrize("method", ["weighted", "summing"])
@pytest.mark.parametrize("side", ["front", "back"])
def test_pattern_reproduces_vertical_cut(method, side):
    p = _asymmetric_pattern()
    elev = np.arange(-89.5, 90.0, 0.5)
    az, msi = (0.0, -elev) if side == "front" else (180.0, 180.0 + elev)
    np.testing.assert_allclose(p.gain_db(az, elev, method=method), -_interp(p.v_att_db, msi), atol=1e-12)


def test_file_samples_reproduced_with_zero_tilts():
    p = _asymmetric_pattern()
    k = np.arange(360.0)
    np.testing.assert_array_equal(p.gain_db(k, 0.0, 0.0, 0.0), -p.h_att_db)
    front = (k <= 90) | (k >= 270)
    az = np.where(front, 0.0, 180.0)
    elev = np.where(k <= 90, -k, np.where(k >= 270, 360.0 - k, k - 180.0))
    np.testing.assert_allclose(p.gain_db(az, elev, 0.0, 0.0), -p.v_att_db, atol=1e-12)


@pytest.mark.parametrize("method", ["weighted", "summing"])
def test_pattern_gain_never_above_zero(method):
    p = _asymmetric_pattern()
    az, el = np.meshgrid(np.arange(-180.0, 180.0, 7.0), np.arange(-90.0, 90.5, 3.0))
    g = p.gain_db(az, el, 4.0, 3.0, method=method)
    assert g.max() <= 0.0 and np.all(np.isfinite(g))


def _lobed_pattern():
    """Sector pattern with a distinct back lobe (peak at the back horizon), cuts consistent."""
    k = np.arange(360.0)
    phi = np.minimum(k, 360.0 - k)
    h = np.minimum(12.0 * (phi / 65.0) ** 2, 20.0)
    elev = np.where(k <= 90, -k, np.where(k >= 270, 360.0 - k, k - 180.0))
    back = (k > 90) & (k < 270)
    v = np.where(back, 20.0 + np.minimum(12.0 * (elev / 15.0) ** 2, 15.0), np.minimum(12.0 * (elev / 10.0) ** 2, 25.0))
    return AntennaPattern(name="lobed", gain_dbi=17.0, h_att_db=h, v_att_db=v)


def test_mechanical_tilt_moves_front_down_and_back_up():
    p = _lobed_pattern()
    elev = np.arange(-30.0, 30.5, 0.5)
    assert elev[np.argmax(p.gain_db(0.0, elev, mech_tilt_deg=8.0))] == -8.0
    assert elev[np.argmax(p.gain_db(180.0, elev, mech_tilt_deg=8.0))] == 8.0
    # the rotation axis points at +/-90 deg azimuth: those directions do not move
    assert p.gain_db([90.0, -90.0], 0.0, mech_tilt_deg=8.0).tolist() == p.gain_db([90.0, -90.0], 0.0).tolist()


def test_electrical_tilt_moves_front_and_back_down():
    p = _lobed_pattern()
    elev = np.arange(-30.0, 30.5, 0.5)
    assert elev[np.argmax(p.gain_db(0.0, elev, elec_tilt_deg=8.0))] == -8.0
    assert elev[np.argmax(p.gain_db(180.0, elev, elec_tilt_deg=8.0))] == -8.0


@pytest.mark.parametrize("az", [0.0, 45.0, 90.0, 150.0, 180.0])
def test_electrical_tilt_is_an_elevation_shift(az):
    p = _lobed_pattern()
    elev = np.arange(-60.0, 60.5, 2.5)
    np.testing.assert_allclose(p.gain_db(az, elev, elec_tilt_deg=8.0), p.gain_db(az, elev + 8.0), atol=1e-12)


def test_file_tilt_only_difference_applied():
    tilted = AntennaPattern.from_sector(downtilt_deg=6.0)  # cuts contain 6 deg electrical tilt
    flat = AntennaPattern.from_sector(downtilt_deg=0.0)
    az, el = np.meshgrid(np.arange(-60.0, 61.0, 10.0), np.arange(-40.0, 41.0, 4.0))
    # the file's own tilt is the default: nothing more is applied and the cuts come back
    np.testing.assert_array_equal(tilted.gain_db(az, el), tilted.gain_db(az, el, elec_tilt_deg=6.0))
    np.testing.assert_allclose(tilted.gain_db(0.0, el[:, 0]), -_interp(tilted.v_att_db, -el[:, 0]), atol=1e-12)
    np.testing.assert_allclose(tilted.gain_db(az[0], 0.0), -_interp(tilted.h_att_db, az[0]), atol=1e-12)
    # 10 deg wanted on a 6 deg file: 4 deg more
    np.testing.assert_allclose(tilted.gain_db(az, el, elec_tilt_deg=10.0), tilted.gain_db(az, el + 4.0), atol=1e-12)
    # on the vertical cut a tilted file equals the untilted one tilted electrically
    np.testing.assert_allclose(tilted.gain_db(0.0, el[:, 0]), flat.gain_db(0.0, el[:, 0], elec_tilt_deg=6.0), atol=1e-12)


def test_sector_pattern_sampled_agrees_with_sector_function_on_cuts():
    p = AntennaPattern.from_sector(downtilt_deg=0.0)
    az = np.arange(-180.0, 180.0)
    np.testing.assert_allclose(p.gain_db(az, 0.0), sector_gain_db(az, 0.0), atol=1e-12)


def test_core_called_directly_like_the_engine():
    p = _asymmetric_pattern(tilt_deg=2.0)
    h, v = p.kernel_cuts()
    assert h.dtype == np.float64 and v.shape == (360,)
    got = _pattern_gain_db(h, v, 20.0, -3.0, 2.0, 5.0 - p.elec_tilt_deg, 0)
    assert got == p.gain_db(20.0, -3.0, 2.0, 5.0)


def test_pattern_method_unknown_lists_choices():
    with pytest.raises(ValueError, match="method must be one of 'weighted', 'summing'; got 'cubic'"):
        AntennaPattern.from_sector().gain_db(0.0, 0.0, method="cubic")


def test_pattern_elevation_out_of_range():
    p = AntennaPattern.from_sector()
    with pytest.raises(ValueError, match="elev_deg outside"):
        p.gain_db(0.0, -91.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidityRangeWarning):
            p.gain_db(0.0, -91.0, strict=False)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("h_att_db", np.zeros(359), "exactly 360 values"), ("v_att_db", np.r_[np.zeros(359), -1.0], r"v_att_db\[359\] = -1.0"),
     ("h_att_db", np.r_[np.nan, np.zeros(359)], r"h_att_db\[0\] = nan"), ("elec_tilt_deg", 120.0, "elec_tilt_deg outside")],
    ids=["short_cut", "negative_attenuation", "nan_attenuation", "tilt_out_of_range"],
)  # fmt: skip
def test_pattern_constructor_validates(field, value, match):
    kwargs = {"name": "x", "gain_dbi": 15.0, "h_att_db": np.zeros(360), "v_att_db": np.zeros(360)} | {field: value}
    with pytest.raises(ValueError, match=match):
        AntennaPattern(**kwargs)


def test_pattern_copies_and_freezes_cuts():
    h = np.zeros(360)
    p = AntennaPattern(name="x", gain_dbi=15.0, h_att_db=h, v_att_db=np.zeros(360))
    h[5] = 9.0
    assert p.h_att_db[5] == 0.0
    with pytest.raises(ValueError):
        p.h_att_db[5] = 1.0


def test_pattern_gain_inputs_not_modified():
    p = _asymmetric_pattern()
    az, el, mech = np.array([10.0, 400.0]), np.array([-5.0, 3.0]), np.array([2.0, 0.0])
    copies = [a.copy() for a in (az, el, mech)]
    h_before = p.h_att_db.copy()
    p.gain_db(az, el, mech, 4.0)
    for a, b in zip((az, el, mech), copies):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(p.h_att_db, h_before)


def test_pattern_equality_and_hash():
    a, b = AntennaPattern.from_sector(), AntennaPattern.from_sector()
    assert a == b and hash(a) == hash(b)
    assert a != AntennaPattern.from_sector(downtilt_deg=2.0)
