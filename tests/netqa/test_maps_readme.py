"""The README's coverage map (issue 8): committed, small, linked, and regenerable."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from netqa.maps.readme_figure import DEFAULT_OUT, _optimise_png

ROOT = Path(__file__).resolve().parents[2]


def test_readme_shows_the_committed_coverage_map():
    from PIL import Image

    assert DEFAULT_OUT == ROOT / "docs" / "coverage_map.png"
    assert DEFAULT_OUT.stat().st_size < 400_000
    with Image.open(DEFAULT_OUT) as im:
        assert im.size == (1100, 880)
        colours = im.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 20  # a map, not a blank
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/coverage_map.png)" in readme
    assert readme.index("docs/coverage_map.png") < readme.index("## Quick start")


def test_optimise_png_keeps_the_picture_and_shrinks_it(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    classes = rng.integers(0, 6, (60, 80))
    palette = np.array([[0, 109, 44], [49, 163, 84], [194, 230, 0], [254, 196, 79], [240, 59, 32], [84, 39, 143]])
    rgb = np.kron(palette[classes], np.ones((4, 4, 1))).astype(np.uint8)
    path = tmp_path / "m.png"
    Image.fromarray(rgb).save(path)
    before = path.stat().st_size
    size = _optimise_png(path)
    assert size == path.stat().st_size <= before
    with Image.open(path) as im:
        assert im.mode == "P"
        assert np.array_equal(np.asarray(im.convert("RGB")), rgb)  # six colours survive exactly
