"""Slow plain-Python ITM point-to-point oracle, written straight from the algorithm (no numba, no numpy).

Follows Hufford, "The ITS Irregular Terrain Model, version 1.2.2, the Algorithm" (1995), subroutine by
subroutine (qlrpfl, hzns, dlthx, zlsq1, lrprop, adiff, alos, ascat, avar), on the PFL array
[n, xi, z_0 .. z_n], with the constants of NTIA's reference implementation github.com/NTIA/itm v1.4.
Used by the tests only: the kernel of :mod:`propagation.itm` must agree with it on random profiles.
"""

from __future__ import annotations

import cmath
import math


def hzns(pfl, a_e, h):
    n, xi = int(pfl[0]), pfl[1]
    z = pfl[2:]
    d = n * xi
    za, zb = z[0] + h[0], z[n] + h[1]
    the = [(zb - za) / d - d / (2 * a_e), -(zb - za) / d - d / (2 * a_e)]
    dl = [d, d]
    sa, sb = 0.0, d
    for i in range(1, n):
        sa, sb = sa + xi, sb - xi  # accumulated, as hzns does (0.9 d_L can fall on a sample exactly)
        ta = (z[i] - za) / sa - sa / (2 * a_e)
        tb = -(zb - z[i]) / sb - sb / (2 * a_e)
        if ta > the[0]:
            the[0], dl[0] = ta, sa
        if tb > the[1]:
            the[1], dl[1] = tb, sb
    return the, dl


def zlsq1(pfl, x1, x2):
    n, xi = int(pfl[0]), pfl[1]
    z = pfl[2:]
    ja = int(max(x1 / xi, 0.0))
    jb = n - int(max(n - x2 / xi, 0.0))
    if jb <= ja:
        ja = int(max(ja - 1.0, 0.0))
        jb = n - int(max(n - (jb + 1.0), 0.0))
    xn = jb - ja
    xa = -0.5 * xn
    xb = xa + jb
    a = 0.5 * (z[ja] + z[jb])
    b = 0.5 * (z[ja] - z[jb]) * xa
    for k in range(1, int(xn)):
        a += z[ja + k]
        b += z[ja + k] * (xa + k)
    a /= xn
    b = b * 12.0 / ((xn * xn + 2.0) * xn)
    return a - b * xb, a + b * (n - xb)


def dlthx(pfl, x1, x2):
    n, xi = int(pfl[0]), pfl[1]
    z = pfl[2:]
    xa, xb = x1 / xi, x2 / xi
    if xb - xa < 2.0:
        return 0.0
    ka = min(max(4, int(0.1 * (xb - xa + 8.0))), 25)
    m = 10 * ka - 5
    kb = m - ka
    sn = m - 1
    step = (xb - xa) / sn
    k = int(xa)
    x = xa - (k + 1.0)
    s = []
    for _ in range(m):
        while x > 0.0 and k + 1 < n:
            x -= 1.0
            k += 1
        s.append(z[k + 1] + (z[k + 1] - z[k]) * x)
        x += step
    y1, y2 = zlsq1([sn, 1.0] + s, 0.0, sn)
    slope = (y2 - y1) / sn
    res = sorted((s[j] - (y1 + slope * j) for j in range(m)), reverse=True)
    return (res[ka - 1] - res[kb]) / (1.0 - 0.8 * math.exp(-(x2 - x1) / 50e3))


def qlrpfl(pfl, gamma_e, h):
    n, xi = int(pfl[0]), pfl[1]
    z = pfl[2:]
    d = n * xi
    a_e = 1 / gamma_e
    the, dl = hzns(pfl, a_e, h)
    xl = [min(15.0 * h[0], 0.1 * dl[0]), d - min(15.0 * h[1], 0.1 * dl[1])]
    dh = dlthx(pfl, xl[0], xl[1])
    he = [0.0, 0.0]
    if dl[0] + dl[1] > 1.5 * d:
        za, zb = zlsq1(pfl, xl[0], xl[1])
        he = [h[0] + max(z[0] - za, 0.0), h[1] + max(z[n] - zb, 0.0)]
        dl = [math.sqrt(2 * he[j] * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he[j], 5.0))) for j in range(2)]
        if dl[0] + dl[1] <= d:
            q = (d / (dl[0] + dl[1])) ** 2
            he = [x * q for x in he]
            dl = [math.sqrt(2 * he[j] * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he[j], 5.0))) for j in range(2)]
        for j in range(2):
            q = math.sqrt(2 * he[j] * a_e)
            the[j] = (0.65 * dh * (q / dl[j] - 1.0) - 2.0 * he[j]) / q
    else:
        za, _ = zlsq1(pfl, xl[0], 0.9 * dl[0])
        he[0] = h[0] + max(z[0] - za, 0.0)
        _, zb = zlsq1(pfl, d - 0.9 * dl[1], xl[1])
        he[1] = h[1] + max(z[n] - zb, 0.0)
    return the, dl, he, dh, d


def _dh_d(d, dh):
    return dh * (1 - 0.8 * math.exp(-d / 50e3))


def _sigma_h(dh):
    return 0.78 * dh * math.exp(-0.5 * dh**0.25)


def _fht(x, k):
    if x < 200:
        w = -math.log(k)
        if k < 1e-5 or x * w**3 > 5495:
            return -117.0 + (17.372 * math.log(x) if x > 1 else 0.0)
        return 2.5e-5 * x * x / k - 8.686 * w - 15
    r = 0.05751 * x - 4.343 * math.log(x)
    if x < 2000:
        w = 0.0134 * x * math.exp(-0.005 * x)
        r = (1 - w) * r + w * (17.372 * math.log(x) - 117)
    return r


def _aknfe(v2):
    return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2 if v2 < 5.76 else 12.953 + 10 * math.log10(v2)


def adiff(d, p):
    wn = p["f"] / 47.7
    th = d / p["a_e"] - p["th_los"]
    ds = d - p["dl"][0] - p["dl"][1]
    ak = sum(_aknfe(0.0795775 * wn * th * th * ds * dl / (ds + dl)) for dl in p["dl"])
    radii = [ds / th, p["dl"][0] ** 2 / (2 * p["he"][0]), p["dl"][1] ** 2 / (2 * p["he"][1])]
    dists = [radii[0] * th, p["dl"][0], p["dl"][1]]
    xs, ks = [], []
    for a, dd in zip(radii, dists):
        c0 = (4 / 3 * 6370e3 / a) ** (1 / 3)
        k = 0.017778 * c0 * p["f"] ** (-1 / 3) / abs(p["zg"])
        xs.append((1.607 - k) * c0 * c0 * p["f"] ** (1 / 3) * dd / 1000)
        ks.append(k)
    x0 = xs[0] + xs[1] + xs[2]
    ar = 0.05751 * x0 - 10 * math.log10(x0) - _fht(xs[1], ks[1]) - _fht(xs[2], ks[2]) - 20
    afo = min(15.0, 5 * math.log10(1 + 1e-5 * p["h"][0] * p["h"][1] * p["f"] * _sigma_h(_dh_d(p["dsml"], p["dh"]))))
    q = p["h"][0] * p["h"][1]
    qk = p["he"][0] * p["he"][1] - q
    q += 10.0
    q = (math.sqrt(1 + qk / q) + (-p["th_los"] * p["a_e"] + p["dl"][0] + p["dl"][1]) / d) * min(
        _dh_d(d, p["dh"]) * wn, 6283.2
    )
    w = 25.1 / (25.1 + math.sqrt(q))
    return w * ar + (1 - w) * ak + afo


def alos(d, p, md, ad0):
    wn = p["f"] / 47.7
    hs = p["he"][0] + p["he"][1]
    sps = hs / math.sqrt(d * d + hs * hs)
    r = (sps - p["zg"]) / (sps + p["zg"]) * math.exp(-min(10.0, wn * _sigma_h(_dh_d(d, p["dh"])) * sps))
    q = abs(r) ** 2
    if q < 0.25 or q < sps:
        r *= math.sqrt(sps / q)
    alt = wn * 2 * p["he"][0] * p["he"][1] / d
    if alt > math.pi / 2:
        alt = math.pi - (math.pi / 2) ** 2 / alt
    at = -10 * math.log10(abs(cmath.exp(-1j * alt) + r) ** 2)
    w = 1 / (1 + p["f"] * p["dh"] / max(10e3, p["dsml"]))
    return w * at + (1 - w) * (md * d + ad0)


_H0AB = [(25, 24), (80, 45), (177, 68), (395, 80), (705, 105)]


def _h0(r, et):
    et = min(max(et, 1.0), 5.0)
    i = int(et)
    q = et - i
    curve = [10 * math.log10(1 + a / r**4 + b / r**2) for a, b in _H0AB]
    return curve[i - 1] if q == 0 else (1 - q) * curve[i - 1] + q * curve[i]


def ascat(d, p, h0prev):
    wn = p["f"] / 47.7
    if h0prev > 15:
        h0 = h0prev
    else:
        ad = p["dl"][0] - p["dl"][1]
        rr = p["he"][1] / p["he"][0]
        if ad < 0:
            ad, rr = -ad, 1 / rr
        th = p["the"][0] + p["the"][1] + d / p["a_e"]
        r1, r2 = 2 * wn * th * p["he"][0], 2 * wn * th * p["he"][1]
        if r1 < 0.2 and r2 < 0.2:
            return 1001.0, h0prev
        ss = (d - ad) / (d + ad)
        q = min(max(0.1, rr / ss), 10.0)
        ss = max(0.1, ss)
        z0 = (d - ad) * (d + ad) * th * 0.25 / d
        ns = p["ns"]
        et = (z0 / 1.7556e3) * (1 + (0.031 - ns * 2.32e-3 + ns * ns * 5.67e-6) * math.exp(-min(1.7, z0 / 8e3) ** 6))
        h00 = (_h0(r1, et) + _h0(r2, et)) / 2
        h0 = max(h00 + min(h00, 6 * (0.6 - math.log10(max(et, 1))) * math.log10(ss) * math.log10(q)), 0.0)
        if et < 1:
            h0 = et * h0 + (1 - et) * 10 * math.log10(
                ((1 + math.sqrt(2) / r1) * (1 + math.sqrt(2) / r2)) ** 2 * (r1 + r2) / (r1 + r2 + 2 * math.sqrt(2))
            )
        if h0 > 15 and h0prev >= 0:
            h0 = h0prev
    th = d / p["a_e"] - p["th_los"]
    td = th * d
    f0 = (133.4 + 0.332e-3 * td - 10 * math.log10(td) if td <= 10e3 else
          104.6 + 0.212e-3 * td - 2.5 * math.log10(td) if td <= 70e3 else
          71.8 + 0.157e-3 * td + 5 * math.log10(td))  # fmt: skip
    return f0 + 10 * math.log10(wn * 47.7 * th**4) - 0.1 * (p["ns"] - 301) * math.exp(-td / 40e3) + h0, h0


def lrprop(d, p):
    a_e = p["a_e"]
    dls = [math.sqrt(2 * he * a_e) for he in p["he"]]
    p["dsml"] = dls[0] + dls[1]
    dla = p["dl"][0] + p["dl"][1]
    p["th_los"] = -max(p["the"][0] + p["the"][1], -dla / a_e)
    xae = (a_e * a_e / p["f"]) ** (1 / 3)
    d3 = max(p["dsml"], dla + 5 * xae)
    d4 = d3 + 10 * xae
    a3, a4 = adiff(d3, p), adiff(d4, p)
    md = (a4 - a3) / (d4 - d3)
    ad0 = a3 - md * d3
    if d < p["dsml"]:
        asml = p["dsml"] * md + ad0
        d0 = 0.04 * p["f"] * p["he"][0] * p["he"][1]
        if ad0 >= 0:
            d0 = min(d0, 0.5 * dla)
            d1 = d0 + 0.25 * (dla - d0)
        else:
            d1 = max(-ad0 / md, 0.25 * dla)
        a1 = alos(d1, p, md, ad0)
        two = False
        if d0 < d1:
            a0 = alos(d0, p, md, ad0)
            q = math.log(p["dsml"] / d0)
            ak2 = max(0.0, ((p["dsml"] - d0) * (a1 - a0) - (d1 - d0) * (asml - a0))
                      / ((p["dsml"] - d0) * math.log(d1 / d0) - (d1 - d0) * q))  # fmt: skip
            two = ad0 > 0 or ak2 > 0
            if two:
                ak1 = (asml - a0 - ak2 * q) / (p["dsml"] - d0)
                if ak1 < 0:
                    ak1 = 0.0
                    ak2 = max(asml - a0, 0.0) / q
                    if ak2 == 0:
                        ak1 = md
        if not two:
            ak2 = 0.0
            ak1 = max(asml - a1, 0.0) / (p["dsml"] - d1)
            if ak1 == 0:
                ak1 = md
        ael = asml - ak1 * p["dsml"] - ak2 * math.log(p["dsml"])
        return max(ael + ak1 * d + ak2 * math.log(d), 0.0), 1
    d5, d6 = dla + 200e3, dla + 400e3
    a6, h0 = ascat(d6, p, -1.0)
    a5, h0 = ascat(d5, p, h0)
    if a5 < 1000:
        ms = (a6 - a5) / 200e3
        dx = max(p["dsml"], dla + 1.088 * xae * math.log(p["f"]), (a5 - ad0 - ms * d5) / (md - ms))
        as0 = (md - ms) * dx + ad0
    else:
        ms, as0, dx = md, ad0, 10e6
    if d > dx:
        return max(ms * d + as0, 0.0), 3
    return max(md * d + ad0, 0.0), 2


def qerfi(q):
    x = min(q, 1 - q)
    t = math.sqrt(-2 * math.log(x))
    v = t - ((0.010328 * t + 0.802853) * t + 2.515516) / (((0.001308 * t + 0.189269) * t + 1.432788) * t + 1)
    return -v if q > 0.5 else v


_CLIM = {  # [Algorithm Table 5.1] per climate 1..7: V_med, sigma_T-, sigma_T+ curve constants, C_D, z_D, g-/g+
    "vmed": [(-9.67, 12.7, 144.9e3, 190.3e3, 133.8e3), (-0.62, 9.19, 228.9e3, 205.2e3, 143.6e3),
             (1.26, 15.5, 262.6e3, 185.2e3, 99.8e3), (-9.21, 9.05, 84.1e3, 101.1e3, 98.6e3),
             (-0.62, 9.19, 228.9e3, 205.2e3, 143.6e3), (-0.39, 2.86, 141.7e3, 315.9e3, 167.4e3),
             (3.15, 857.9, 2222.0e3, 164.8e3, 116.3e3)],
    "sm": [(2.13, 159.5, 762.2e3, 123.6e3, 94.5e3), (2.66, 7.67, 100.4e3, 172.5e3, 136.4e3),
           (6.11, 6.65, 138.2e3, 242.2e3, 178.6e3), (1.98, 13.11, 139.1e3, 132.7e3, 193.5e3),
           (2.68, 7.16, 93.7e3, 186.8e3, 133.5e3), (6.86, 10.38, 187.8e3, 169.6e3, 108.9e3),
           (8.51, 169.8, 609.8e3, 119.9e3, 106.6e3)],
    "sp": [(2.11, 102.3, 636.9e3, 134.8e3, 95.6e3), (6.87, 15.53, 138.7e3, 143.7e3, 98.6e3),
           (10.08, 9.60, 165.3e3, 225.7e3, 129.7e3), (3.68, 159.3, 464.4e3, 93.1e3, 94.2e3),
           (4.75, 8.12, 93.2e3, 135.9e3, 113.4e3), (8.58, 13.97, 216.0e3, 152.0e3, 122.7e3),
           (8.43, 8.19, 136.2e3, 188.5e3, 122.9e3)],
    "cd": [1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518],
    "zd": [1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282],
    "fm": [(1, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0), (0.92, 0.25, 1.77), (1, 0, 0), (1, 0, 0)],
    "fp": [(1, 0, 0), (0.93, 0.31, 2.00), (1, 0, 0), (0.93, 0.19, 1.79), (0.93, 0.31, 2.00), (1, 0, 0), (1, 0, 0)],
}  # fmt: skip


def _curv(c, de):
    c1, c2, x1, x2, x3 = c
    return (c1 + c2 / (1 + ((de - x2) / x3) ** 2)) * (de / x1) ** 2 / (1 + (de / x1) ** 2)


def avar(zt, zl, zs, p, d, aref, klim, mdvar):
    c = klim - 1
    wn = p["f"] / 47.7
    dex = math.sqrt(2 * 9000e3 * p["he"][0]) + math.sqrt(2 * 9000e3 * p["he"][1]) + (575.7e12 / wn) ** (1 / 3)
    de = 130e3 * d / dex if d < dex else 130e3 + d - dex
    kdv = mdvar
    ws = kdv >= 20
    kdv -= 20 if ws else 0
    wl = kdv >= 10
    kdv -= 10 if wl else 0
    sgs = 0.0 if ws else 5 + 3 * math.exp(-de / 100e3)
    vmd = _curv(_CLIM["vmed"][c], de)
    if kdv == 0:
        zt = zl = zs
    elif kdv == 1:
        zl = zs
    elif kdv == 2:
        zl = zt
    sgl = 0.0 if wl else 10 * wn * _dh_d(d, p["dh"]) / (wn * _dh_d(d, p["dh"]) + 13)
    q = math.log(0.133 * wn)
    fm, fp = _CLIM["fm"][c], _CLIM["fp"][c]
    sgtm = _curv(_CLIM["sm"][c], de) * (fm[0] + fm[1] / ((fm[2] * q) ** 2 + 1))
    sgtp = _curv(_CLIM["sp"][c], de) * (fp[0] + fp[1] / ((fp[2] * q) ** 2 + 1))
    sgtd = _CLIM["cd"][c] * sgtp
    tgtd = (sgtp - sgtd) * _CLIM["zd"][c]
    sgt = sgtm if zt < 0 else (sgtp if zt <= _CLIM["zd"][c] else sgtd + tgtd / zt)
    yt, yl = sgt * zt, sgl * zl
    vs = sgs**2 + yt**2 / (7.8 + zs**2) + yl**2 / (24 + zs**2)
    if kdv == 0:
        yr, ys = 0.0, math.sqrt(sgt**2 + sgl**2 + vs) * zs
    elif kdv == 1:
        yr, ys = yt, math.sqrt(sgl**2 + vs) * zs
    elif kdv == 2:
        yr, ys = math.sqrt(sgt**2 + sgl**2) * zt, math.sqrt(vs) * zs
    else:
        yr, ys = yt + yl, math.sqrt(vs) * zs
    a = aref - vmd - yr - ys
    return a * (29 - a) / (29 - 10 * a) if a < 0 else a


def itm_p2p_oracle(heights, step_m, h_tx, h_rx, f_mhz, climate=5, n0=301.0, pol="vertical", eps=15.0, sgm=0.005,
                   mdvar=12, time_pct=50.0, loc_pct=50.0, sit_pct=50.0):  # fmt: skip
    """(loss_db, a_ref_db, mode, delta_h_m, he, dl, the) of one path; no validation."""
    z = [float(v) for v in heights]
    n = len(z) - 1
    pfl = [float(n), float(step_m)] + z
    k = int(0.1 * n)
    hsys = sum(z[k : n - k + 1]) / (n - 2 * k + 1)
    ns = n0 if hsys == 0 else n0 * math.exp(-hsys / 9460)
    gme = 157e-9 * (1 - 0.04665 * math.exp(ns / 179.3))
    ep = complex(eps, 18000 * sgm / f_mhz)
    zg = cmath.sqrt(ep - 1)
    if pol == "vertical":
        zg /= ep
    h = [h_tx, h_rx]
    the, dl, he, dh, d = qlrpfl(pfl, gme, h)
    p = {"f": f_mhz, "a_e": 1 / gme, "zg": zg, "h": h, "he": he, "dl": dl, "the": the, "dh": dh, "ns": ns}
    aref, mode = lrprop(d, p)
    fs = 32.45 + 20 * math.log10(f_mhz) + 20 * math.log10(d / 1000)
    a = avar(qerfi(time_pct / 100), qerfi(loc_pct / 100), qerfi(sit_pct / 100), p, d, aref, climate, mdvar)
    return a + fs, aref, mode, dh, he, dl, the
