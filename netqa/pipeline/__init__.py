"""The whole chain from a project file: ingest → KPIs → predict → compare/calibrate → score → maps → report.

:func:`run_project` runs every enabled stage whose inputs the project gives, in
order, into one run folder, and writes ``manifest.json`` there: the inputs with
their SHA-256, every parameter, the package versions, each stage's status and
timing, and every output with its SHA-256.  A stage whose issue has not landed
yet is recorded as ``not built`` and the chain goes on; a stage that fails on
bad input stops the run with the error (the manifest still records it).

Package layout (arrows point down)::

    runner   run_project(): the stages in order, the manifest at the end
    stages   one function per step of the chain, each calling one library stage
    context  RunContext shared by the stages, the run folder and manifest.json
"""

from netqa.pipeline.context import (
    RunContext,
    StageRecord,
    package_versions,
    prepare_run_dir,
    write_manifest,
)
from netqa.pipeline.runner import default_stages, not_built, run_project

__all__ = ["RunContext", "StageRecord", "default_stages", "not_built", "package_versions", "prepare_run_dir",
           "run_project", "write_manifest"]
