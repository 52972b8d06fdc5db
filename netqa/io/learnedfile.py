"""The learned correction's sidecar file and its ``[learned]`` record in the tuned-model TOML.

``netqa calibrate --learned-correction`` writes, in one output set with the
TOML (:func:`netqa.fileio.atomic_set`), a sidecar next to it:
``TUNED.learned.txt`` (a LightGBM text model) or ``TUNED.learned.pkl``
(a pickled scikit-learn model: load only files you made yourself), and in the
TOML::

    [learned]
    file = "tuned.learned.txt"   # beside the TOML
    sha256 = "..."               # of the sidecar
    library = "lightgbm"
    library_version = "4.7.0"
    [learned.features]           # FeatureSpec: terrain, rx_height_m, classes, near_m, building, names
    ...
    [learned.training] / [learned.holdout]   # training statistics and the site-held-out verdict

:func:`load_learned` refuses (:class:`~netqa.errors.ConfigError`, exit 2) a
record whose library is missing or of another major.minor version, whose
feature list this netqa does not compute the same way, or whose sidecar is
missing or altered.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from netqa.errors import ConfigError

SUFFIX = {"lightgbm": ".learned.txt", "sklearn": ".learned.pkl"}


def sidecar_path(toml_path, library: str) -> Path:
    """The sidecar's path beside the TOML: ``NAME.learned.txt`` or ``NAME.learned.pkl``."""
    p = Path(toml_path)
    return p.with_name(p.stem + SUFFIX[library])


def model_bytes(corr) -> bytes:
    """The fitted model serialised for its library."""
    if corr.library == "lightgbm":
        return corr.model.model_to_string().encode("utf-8")
    return pickle.dumps(corr.model, protocol=pickle.HIGHEST_PROTOCOL)


def learned_record(corr, sidecar: Path, blob: bytes) -> dict:
    """The ``[learned]`` table for an adopted correction written to ``sidecar``."""
    s = corr.summary()
    return {"file": sidecar.name, "sha256": hashlib.sha256(blob).hexdigest(), "library": corr.library,
            "library_version": corr.library_version, "features": s["features"], "training": s["training"],
            "holdout": s["holdout"]}  # fmt: skip


def check_lightgbm_text(text: str) -> None:
    """Refuse a LightGBM text model that is not complete (ConfigError): header, every tree of ``tree_sizes`` at its
    offset, ``end of trees``.  LightGBM itself aborts the process (no Python exception) on a truncated model."""
    import re

    m = re.search(r"^tree_sizes=([0-9 ]*)$", text, re.M)
    if not text.startswith("tree\n") or m is None or "\nTree=0\n" not in text or "\nend of trees" not in text \
            or "\nend of parameters" not in text:
        raise ConfigError("not a complete LightGBM text model (header, trees, 'end of trees' or 'end of parameters' "
                          "missing: truncated?)")
    try:
        sizes = [int(x) for x in m.group(1).split()]
    except ValueError:
        raise ConfigError("not a LightGBM text model (bad tree_sizes line)") from None
    start = text.index("\nTree=0\n") + 1
    end = text.index("\nend of trees") + 1
    offsets = [start + sum(sizes[:i]) for i in range(len(sizes))]
    if start + sum(sizes) != end or not all(text.startswith(f"Tree={i}\n", o) for i, o in enumerate(offsets)):
        raise ConfigError(f"its {len(sizes)} trees do not match their recorded sizes (truncated or edited)")


def _major_minor(v: str) -> tuple:
    return tuple(str(v).split(".")[:2])


def load_learned(model_file, record: dict):
    """The :class:`~netqa.calibrate.learned.LearnedCorrection` of a model file's ``[learned]`` table.

    Raises
    ------
    netqa.errors.ConfigError
        Missing keys, an unknown or missing library, a library version of another
        major.minor, a feature list that does not match, a missing or altered sidecar.
    """
    from netqa.calibrate.features import FeatureSpec
    from netqa.calibrate.learned import LIBRARIES, LearnedCorrection, library_version

    p = Path(model_file)
    where = f"--model-file {p}: [learned]"
    missing = [k for k in ("file", "sha256", "library", "library_version", "features") if k not in record]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(missing)}; rerun netqa calibrate --learned-correction")
    lib = record["library"]
    if lib not in LIBRARIES:
        raise ConfigError(f"{where} library {lib!r}: unknown; netqa reads {', '.join(LIBRARIES)}")
    try:
        have = library_version(lib)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if _major_minor(have) != _major_minor(record["library_version"]):
        raise ConfigError(f"{where} was fitted with {lib} {record['library_version']}, this environment has {have}: "
                          f"install {lib}=={record['library_version']} or rerun netqa calibrate --learned-correction")  # fmt: skip
    try:
        spec = FeatureSpec.from_dict(dict(record["features"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where} features: {exc}; rerun netqa calibrate --learned-correction") from exc
    side = p.parent / str(record["file"])
    try:
        blob = side.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where} model file {side} cannot be read ({exc.strerror or exc}); keep it beside the TOML") from exc
    if hashlib.sha256(blob).hexdigest() != record["sha256"]:
        raise ConfigError(f"{where} model file {side} does not match its sha256 (altered or from another run)")
    try:
        if lib == "lightgbm":
            import lightgbm as lgb

            text = blob.decode("utf-8")
            check_lightgbm_text(text)  # LightGBM aborts the whole process on a malformed model string
            model = lgb.Booster(model_str=text)
            n_feat = model.num_feature()
        else:
            model = pickle.loads(blob)  # noqa: S301 -- the user's own calibration output, sha256-checked
            n_feat = int(model.n_features_in_)
    except ConfigError as exc:
        raise ConfigError(f"{where} model file {side}: {exc}; rerun netqa calibrate --learned-correction") from exc
    except Exception as exc:  # the library's own parse error (LightGBMError, UnpicklingError, ...)
        raise ConfigError(f"{where} model file {side} is not a readable {lib} model ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:200]}); rerun netqa calibrate --learned-correction") from exc
    if n_feat != len(spec.names):
        raise ConfigError(f"{where} model file {side} takes {n_feat} features, the record lists {len(spec.names)}")
    return LearnedCorrection(spec, lib, have, model, True, "loaded", dict(record.get("training", {})),
                             dict(record.get("holdout", {})))  # fmt: skip


__all__ = ["SUFFIX", "learned_record", "load_learned", "model_bytes", "sidecar_path"]
