"""Restyle: dense correspondence from a region to an exemplar region, on frozen ImageNet features.

:mod:`models.restyle.features` turns an image into per-cell descriptors; :mod:`models.restyle.correspondence`
matches the region's cells to the exemplar's in three ways (full, masked and bi-level attention).
The engine (``engine.restyle``) turns the matches into a transfer of the exemplar's own pixels.
"""
