"""[predict] project settings and PredictConfig cannot drift apart (PredictConfig.from_section)."""

import dataclasses

import pytest

from netqa.config import PredictSection, project_from_dict
from netqa.errors import ConfigError
from netqa.predict import PredictConfig

#: [predict] keys that steer the run rather than the prediction itself.
RUN_ONLY = {"enabled", "use_calibrated"}


def test_every_predict_key_is_a_predict_config_field():
    from netqa.predict.config import ITM_KEYS

    keys = {f.name for f in dataclasses.fields(PredictSection)} - RUN_ONLY
    assert keys - set(ITM_KEYS) <= {f.name for f in dataclasses.fields(PredictConfig)}
    assert set(ITM_KEYS) <= keys  # the Longley-Rice keys go into PredictConfig.itm (from_section), as the --itm-* flags


def test_from_section_copies_every_key_and_applies_overrides(tmp_path):
    section = {"model": "cost231", "terrain": "delta-bullington", "resolution_m": 60, "radius_km": 4,
               "rx_height_m": 2, "noise_figure_db": 9, "cell_load": 0.4, "clutter_model": "p2108",
               "location_pct": 80, "street_width_m": 15, "tile_px": 512}  # fmt: skip
    cfg = project_from_dict({"predict": section}, base_dir=tmp_path)
    pc = PredictConfig.from_section(cfg.predict)
    for key, value in section.items():
        assert getattr(pc, key) == value, key
    assert isinstance(pc.tile_px, int)
    assert PredictConfig.from_section(cfg.predict, model="spm").model == "spm"


def test_bad_tile_px_in_a_project_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"\[predict\] tile_px = 8 is outside 16..65536 px"):
        project_from_dict({"predict": {"tile_px": 8}}, base_dir=tmp_path)


def test_fractional_tile_px_is_refused(tmp_path):
    """Refused when the project file is read (issue 13: before any stage runs), not when predict starts."""
    with pytest.raises(ConfigError, match=r"\[predict\] tile_px = 100.5 must be a whole number"):
        project_from_dict({"predict": {"tile_px": 100.5}}, base_dir=tmp_path)
