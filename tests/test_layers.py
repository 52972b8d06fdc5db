"""Layering: propagation is pure physics and never imports netqa or the GIS/plotting stack."""

import subprocess
import sys

FORBIDDEN = ["netqa", "geopandas", "rasterio", "matplotlib", "pandas", "shapely", "pyproj"]


def test_propagation_imports_without_netqa_or_gis_stack():
    code = (
        "import sys, propagation, pkgutil, importlib\n"
        "for m in pkgutil.walk_packages(propagation.__path__, 'propagation.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
