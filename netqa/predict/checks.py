"""Checks of a prediction's inputs that the plan (:mod:`netqa.predict.tiles`) does not make, run before any tile.

Shared by ``netqa predict`` and the project pipeline's predict stage, so that both refuse or warn alike:
a grid coarser than a quarter of the DEM (:func:`netqa.predict.inputs.check_resolution`), a tuned model
applied with another terrain method or surface than it was calibrated with
(:func:`netqa.modelcheck.check_tuned_terrain`), cells whose ``ground_m`` disagrees with the DEM
(:func:`netqa.predict.inputs.check_cells_ground`) and a surface raster that covers none of the DEM
(:func:`netqa.predict.surface.check_dem_surface`).
"""

from __future__ import annotations


def check_predict_inputs(cells, dem, *, resolution_m: float, terrain: str, model_file=None, surface=None,
                         surface_flag: str = "--surface", itm=()) -> None:  # fmt: skip
    """Refuse (InputError/ConfigError, exit 2) or warn before a prediction; ``dem`` a path or a list of paths."""
    import rasterio

    from netqa.predict.inputs import check_cells_ground, check_resolution, dem_extent

    dem_paths = [dem] if isinstance(dem, (str, bytes)) or hasattr(dem, "__fspath__") else list(dem)
    try:
        with rasterio.open(dem_paths[0]) as ds:
            dem_crs = ds.crs if ds.crs is not None and ds.crs.is_projected else None
        ext = dem_extent(dem_paths, dem_crs)[0] if dem_crs is not None else None
    except Exception:  # noqa: BLE001 -- an unreadable DEM is reported by its reader, with its own message
        ext = None
    if ext is not None:
        check_resolution(resolution_m, ext)
    if model_file:  # the plan reads the file too, but does not know how it was calibrated
        from netqa.modelcheck import check_tuned_terrain
        from netqa.predict.inputs import read_tuned_model

        check_tuned_terrain(read_tuned_model(model_file), model_file, terrain=terrain, surface=surface, itm=itm)
    check_cells_ground(cells, dem_paths)  # ground_m far from the DEM: antennas in or above the terrain
    if surface is not None:  # a surface that covers none of the DEM (wrong CRS or place) would read as 0 m everywhere
        from netqa.predict.surface import check_dem_surface

        check_dem_surface(surface, dem_paths, flag=surface_flag)


__all__ = ["check_predict_inputs"]
