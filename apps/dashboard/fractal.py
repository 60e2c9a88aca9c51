"""Fractal kernels for the dashboard.

Pure numpy and no Streamlit import, so the kernels can be tested in milliseconds and reused
outside the dashboard. Every public function validates its arguments and bounds the work it
does, because the values come straight from the dashboard's widgets.
"""

from __future__ import annotations

import math

import numpy as np

#: Largest image the kernels render, in pixels (width * height).
MAX_PIXELS = 1_000_000
#: Largest iteration budget for the escape-time kernel.
MAX_ITERATIONS = 2_000
#: Deepest branching tree (2 ** (depth + 1) - 1 segments).
MAX_TREE_DEPTH = 14

# Escape radius; a large radius makes the smooth (continuous) colouring accurate.
_BAILOUT_SQUARED = 256.0**2

#: Gradients as colour stops (position 0..1, RGB 0..255); all start black, so the background is
#: dark and the colour climbs towards the boundary of the set.
PALETTES: dict[str, np.ndarray] = {
    "ember": np.array(
        [
            [0.0, 0, 0, 0],
            [0.35, 110, 10, 10],
            [0.65, 230, 100, 10],
            [0.88, 255, 210, 60],
            [1.0, 255, 255, 230],
        ],
        dtype=np.float64,
    ),
    "ocean": np.array(
        [
            [0.0, 0, 0, 10],
            [0.40, 10, 40, 120],
            [0.70, 20, 140, 210],
            [0.90, 130, 230, 250],
            [1.0, 250, 255, 255],
        ],
        dtype=np.float64,
    ),
    "forest": np.array(
        [
            [0.0, 0, 5, 0],
            [0.40, 10, 70, 25],
            [0.70, 60, 170, 60],
            [0.90, 190, 230, 110],
            [1.0, 255, 250, 210],
        ],
        dtype=np.float64,
    ),
    "grey": np.array([[0.0, 0, 0, 0], [1.0, 255, 255, 255]], dtype=np.float64),
}


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if width * height > MAX_PIXELS:
        raise ValueError(f"image size {width}x{height} exceeds {MAX_PIXELS} pixels")


def escape_time(
    width: int,
    height: int,
    *,
    center: tuple[float, float] = (-0.5, 0.0),
    zoom: float = 1.0,
    max_iter: int = 128,
    julia_c: complex | None = None,
) -> np.ndarray:
    """Smooth escape-time values of the Mandelbrot set, or of a Julia set when ``julia_c`` is given.

    Returns a ``(height, width)`` float array: the continuous iteration count at which each
    point escaped, or NaN for points still bounded after ``max_iter`` iterations (inside the set).
    ``zoom`` 1 shows a view 3 units wide around ``center``; each doubling halves the width.
    """
    _check_size(width, height)
    if not 1 <= max_iter <= MAX_ITERATIONS:
        raise ValueError(f"max_iter must be within 1..{MAX_ITERATIONS}, got {max_iter}")
    if not (math.isfinite(zoom) and zoom > 0):
        raise ValueError(f"zoom must be a positive number, got {zoom}")

    span_x = 3.0 / zoom
    span_y = span_x * height / width
    xs = np.linspace(center[0] - span_x / 2, center[0] + span_x / 2, width)
    ys = np.linspace(center[1] + span_y / 2, center[1] - span_y / 2, height)  # top row is +imag
    grid = (xs[np.newaxis, :] + 1j * ys[:, np.newaxis]).ravel()

    if julia_c is None:
        z = np.zeros_like(grid)
        c = grid.copy()
    else:
        z = grid.copy()
        c = np.full_like(grid, complex(julia_c))

    out = np.full(grid.shape, np.nan, dtype=np.float64)
    # Only the points that have not escaped yet are iterated: the active set shrinks quickly.
    index = np.arange(grid.size)
    for i in range(max_iter):
        z = z * z + c
        mag2 = z.real * z.real + z.imag * z.imag
        escaped = mag2 > _BAILOUT_SQUARED
        if escaped.any():
            # Continuous colouring: i + 1 - log2(log|z|), shifted so values stay non-negative.
            log_abs = 0.5 * np.log(mag2[escaped])
            out[index[escaped]] = np.maximum(i + 1 - np.log2(log_abs), 0.0)
            keep = ~escaped
            z, c, index = z[keep], c[keep], index[keep]
            if index.size == 0:
                break
    return out.reshape(height, width)


def colorize(values: np.ndarray, palette: str = "ember") -> np.ndarray:
    """Map escape-time values to an RGB ``uint8`` image; points inside the set are black.

    Colours are histogram-equalised: each escaped point is placed on the gradient by its rank
    among all escaped points, so the whole palette is used at any zoom or iteration budget.
    """
    if palette not in PALETTES:
        raise ValueError(f"unknown palette {palette!r}; choose one of {sorted(PALETTES)}")
    stops = PALETTES[palette]
    inside = np.isnan(values)
    t = np.zeros(values.shape, dtype=np.float64)
    escaped = values[~inside]
    if escaped.size:
        # Equal values share a rank (and so a colour): the count of values at or below each.
        ranks = np.searchsorted(np.sort(escaped), escaped, side="right")
        t[~inside] = ranks / escaped.size
    rgb = np.stack([np.interp(t, stops[:, 0], stops[:, channel]) for channel in (1, 2, 3)], axis=-1)
    rgb[inside] = 0.0
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def tree_segments(depth: int, angle_deg: float = 25.0, ratio: float = 0.7) -> np.ndarray:
    """Segments of a symmetric binary branching tree, level by level, fully vectorised.

    Returns a float array of shape ``(2 ** (depth + 1) - 1, 5)``: ``x0, y0, x1, y1, level``. The
    trunk goes from (0, 0) to (0, 1); every branch splits into two, turned by +/- ``angle_deg``
    and scaled by ``ratio``.
    """
    if not 0 <= depth <= MAX_TREE_DEPTH:
        raise ValueError(f"depth must be within 0..{MAX_TREE_DEPTH}, got {depth}")
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"ratio must be within (0, 1), got {ratio}")
    if not 0.0 <= angle_deg <= 180.0:
        raise ValueError(f"angle must be within 0..180 degrees, got {angle_deg}")

    turn = math.radians(angle_deg)
    starts = np.zeros((1, 2))
    headings = np.array([math.pi / 2])
    length = 1.0
    levels = []
    for level in range(depth + 1):
        ends = starts + length * np.column_stack((np.cos(headings), np.sin(headings)))
        levels.append(np.column_stack((starts, ends, np.full(len(starts), level, dtype=float))))
        starts = np.repeat(ends, 2, axis=0)
        headings = (headings[:, np.newaxis] + np.array([turn, -turn])).ravel()
        length *= ratio
    return np.vstack(levels)


def render_tree(segments: np.ndarray, size: int = 512, margin: float = 0.05) -> np.ndarray:
    """Rasterise segments from :func:`tree_segments` into a square RGB ``uint8`` image.

    Each segment is sampled once per pixel of its length, so the cost is proportional to the
    drawn length, not to ``size ** 2`` per segment. Colour runs from bark brown (trunk) to leaf
    green (outermost level) on a dark background.
    """
    _check_size(size, size)
    image = np.full((size, size, 3), 16, dtype=np.uint8)
    if len(segments) == 0:
        return image

    points = segments[:, :4].reshape(-1, 2)
    lo = points.min(axis=0)
    hi = points.max(axis=0)
    extent = float(max(hi[0] - lo[0], hi[1] - lo[1], 1e-9))
    usable = size * (1.0 - 2.0 * margin)
    offset = size * margin + (usable - (hi - lo) / extent * usable) / 2.0  # centre the drawing

    def to_pixels(xy: np.ndarray) -> np.ndarray:
        return (xy - lo) / extent * usable + offset

    p0 = to_pixels(segments[:, 0:2])
    p1 = to_pixels(segments[:, 2:4])
    samples = np.ceil(np.hypot(*(p1 - p0).T)).astype(np.int64) + 1
    owner = np.repeat(np.arange(len(segments)), samples)
    first = np.cumsum(samples) - samples
    t = (np.arange(owner.size) - first[owner]) / np.maximum(samples[owner] - 1, 1)
    xy = p0[owner] + (p1[owner] - p0[owner]) * t[:, np.newaxis]

    cols = np.clip(np.rint(xy[:, 0]).astype(np.int64), 0, size - 1)
    rows = np.clip(size - 1 - np.rint(xy[:, 1]).astype(np.int64), 0, size - 1)  # y grows upwards

    levels = segments[:, 4]
    top = max(float(levels.max()), 1.0)
    frac = (levels / top)[owner][:, np.newaxis]
    bark = np.array([122.0, 84.0, 48.0])
    leaf = np.array([96.0, 200.0, 96.0])
    image[rows, cols] = (bark + (leaf - bark) * frac).astype(np.uint8)
    return image
