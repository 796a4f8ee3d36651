"""Conversions between engine arrays and Qt images (the only array handling the GUI does)."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPainterPath, qRgba


def to_display_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, C) uint8/uint16 -> contiguous 8-bit RGB or RGBA for display."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image)


def array_to_qimage(image: np.ndarray) -> QImage:
    rgb = to_display_rgb(image)
    height, width, channels = rgb.shape
    fmt = QImage.Format_RGBA8888 if channels == 4 else QImage.Format_RGB888
    return QImage(rgb.data, width, height, channels * width, fmt).copy()


def mask_to_overlay(mask: np.ndarray, rgba: tuple[int, int, int, int]) -> QImage:
    """A translucent colour where the mask is set, transparent elsewhere (ARGB32 premultiplied, paintable).

    The mask's bytes become a two-colour palette image that Qt expands: no per-pixel work in
    Python, which keeps selection and strokes quick on 8K canvases."""
    height, width = mask.shape
    data = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    palette = QImage(data.data, width, height, width, QImage.Format_Indexed8)
    palette.setColorTable([qRgba(0, 0, 0, 0), qRgba(*rgba)])
    return palette.convertToFormat(QImage.Format_ARGB32_Premultiplied)


def overlay_to_mask(overlay: QImage) -> np.ndarray:
    """The set pixels (alpha > 0) of a painted overlay."""
    alpha = overlay.convertToFormat(QImage.Format_Alpha8)
    width, height = alpha.width(), alpha.height()
    buffer = np.frombuffer(alpha.constBits(), np.uint8, count=alpha.sizeInBytes())
    return buffer.reshape(height, alpha.bytesPerLine())[:, :width] > 0


def path_to_polygons(path: QPainterPath) -> list[np.ndarray]:
    """A painter path's closed subpaths as (N, 2) polygons of (x, y) (without the point that closes each)."""
    polygons = []
    for polygon in path.toSubpathPolygons():
        points = np.array([(point.x(), point.y()) for point in polygon], np.float64).reshape(-1, 2)
        if len(points) > 1 and np.array_equal(points[0], points[-1]):
            points = points[:-1]
        if len(points):
            polygons.append(points)
    return polygons


class PolygonPath(QPainterPath):
    """A painter path made from polygons, which it keeps (``polygons``): an outline simplified for drawing zoomed
    out starts from them, not from the path's points read back one by one."""

    polygons: list[np.ndarray]


def polygons_to_path(polygons: list[np.ndarray], closed: bool = True) -> PolygonPath:
    """(N, 2) polygons of (x, y) image coordinates as one painter path (which keeps them); ``closed`` False: open
    polylines (an outline's dashes)."""
    path = PolygonPath()
    path.polygons = list(polygons)
    for polygon in polygons:
        points = np.asarray(polygon, np.float64).tolist()  # plain floats: 5x quicker than a QPointF a point
        path.moveTo(*points[0])
        for x, y in points[1:]:
            path.lineTo(x, y)
        if closed:
            path.closeSubpath()
    return path
