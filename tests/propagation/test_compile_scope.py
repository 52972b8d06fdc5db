"""A run compiles only what it uses (issue 14 item 3): no SPM kernel for other models, nothing at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import propagation.engine.config as engine_config
from propagation.engine import EngineConfig
from propagation.engine._common import MP_K1
from propagation.spm import SPM_DEFAULT_K, spm_k1_at

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("model", ["hata", "cost231", "fspl", "tr38901-uma"])
def test_model_params_of_other_models_never_touch_the_spm(model, monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("spm_k1_at called for a model that is not the SPM")

    monkeypatch.setattr(engine_config, "spm_k1_at", boom)
    mp = EngineConfig(model=model).model_params(900.0)
    assert np.all(mp[MP_K1 : MP_K1 + 7] == 0.0)


def test_model_params_of_the_spm_carry_its_coefficients():
    mp = EngineConfig(model="spm").model_params(1800.0)
    k = SPM_DEFAULT_K
    assert mp[MP_K1] == pytest.approx(float(spm_k1_at(k, 1800.0)), abs=1e-12)
    assert tuple(mp[MP_K1 + 1 : MP_K1 + 7]) == (k.k2, k.k3, k.k4, k.k5, k.k6, k.k7)


def test_import_compiles_no_extra_specialisation():
    # a dispatcher's signatures list what it compiled or loaded from the cache in this process: SPM_DEFAULT_K
    # needs the Hata core once, with the signature a Hata run's coefficients use anyway (no literal-int variant)
    code = (
        "import propagation, propagation.engine\n"
        "from propagation import pathloss\n"
        "print(len(pathloss._hata_cost_ref_db.signatures), [str(s) for s in pathloss._hata_db.signatures])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert r.stdout.strip() == "0 ['(float64, float64, float64, float64, int64, int64)']"


def test_default_spm_k1_is_the_hata_reference():
    # SPM_DEFAULT_K is computed with the Python body of the reference: the same value as the kernel's
    from propagation.pathloss import _hata_cost_ref_db

    k6 = SPM_DEFAULT_K.k6
    assert SPM_DEFAULT_K.k1 == float(_hata_cost_ref_db(900.0)) - 1.5 * k6
