"""Readers and writers: cell tables, antenna patterns, rasters (DEM, clutter), vectors."""
