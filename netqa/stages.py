"""Stage functions of :func:`netqa.pipeline.run_project`, one per step of the chain.

Each takes the :class:`~netqa.pipeline.RunContext`, returns the list of files
it wrote (or ``None`` when it had nothing to do), and records its main product
in ``ctx.products`` for the stages after it.  Stages only call library
functions; they hold no analysis logic.
"""

from __future__ import annotations

from netqa.pipeline import RunContext, not_built


def ingest(ctx: RunContext):
    if not (ctx.config.ingest.enabled and ctx.config.inputs.logs):
        return None
    return not_built("ingest", 5)


def kpi(ctx: RunContext):
    if not ctx.config.kpi.enabled or "samples" not in ctx.products:
        return None
    return not_built("kpi", 5)


def predict(ctx: RunContext):
    cfg = ctx.config
    if not (cfg.predict.enabled and cfg.inputs.cells and cfg.inputs.dem):
        return None
    return not_built("predict", 4)


def compare(ctx: RunContext):
    if not ctx.config.compare.enabled or "samples" not in ctx.products:
        return None
    return not_built("compare", 6)


def calibrate(ctx: RunContext):
    if not ctx.config.calibrate.enabled or "samples" not in ctx.products:
        return None
    return not_built("calibrate", 6)


def score(ctx: RunContext):
    if not (ctx.config.score.enabled and ctx.config.inputs.regions):
        return None
    return not_built("score", 7)


def maps(ctx: RunContext):
    if not ctx.config.map.enabled or "coverage" not in ctx.products:
        return None
    return not_built("map", 8)


def report(ctx: RunContext):
    return not_built("report", 8)


STAGES = [
    ("ingest", ingest),
    ("kpi", kpi),
    ("predict", predict),
    ("compare", compare),
    ("calibrate", calibrate),
    ("score", score),
    ("map", maps),
    ("report", report),
]
