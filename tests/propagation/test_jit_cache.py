"""The package's numba cache is invalidated by an edit of any of its files (propagation._jit)."""

import os

import numpy as np

from propagation import _jit
from propagation.engine import _terrain_pixel, terrain


def test_package_kernels_use_the_package_stamped_locator():
    terrain.default_n_rays(1000.0, 30.0)
    _terrain_pixel._bull_tail(1.0, 2.0)  # compiles (or loads) a cached kernel
    locator = _terrain_pixel._bull_tail._cache._impl.locator
    assert isinstance(locator, _jit._PackageStampedLocator)
    own, package = locator.get_source_stamp()
    assert package == _jit._package_stamp(_jit._PACKAGE_DIR)


def test_functions_outside_the_package_are_left_to_numba(tmp_path):
    src = tmp_path / "elsewhere.py"
    src.write_text("def f(x):\n    return x\n")
    ns = {}
    exec(compile(src.read_text(), str(src), "exec"), ns)
    assert _jit._PackageStampedLocator.from_function(ns["f"], str(src)) is None


def test_stamp_changes_when_any_file_of_the_package_changes(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    before = _jit._package_stamp(tmp_path)
    assert _jit._package_stamp(tmp_path) == before
    st = os.stat(tmp_path / "sub" / "b.py")
    os.utime(tmp_path / "sub" / "b.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert _jit._package_stamp(tmp_path) != before
    (tmp_path / "c.py").write_text("z = 3\n")
    assert _jit._package_stamp(tmp_path) != before


def test_cached_kernel_still_computes():
    out = terrain.terrain_loss_sweep(np.zeros((21, 21)), 0.0, 630.0, 30.0, 315.0, 315.0, 30.0, 1.5, 900.0, 300.0)
    assert float(np.nanmax(out)) == 0.0
