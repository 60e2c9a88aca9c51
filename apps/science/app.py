"""Scientific Flask service on a conda environment: a numba Mandelbrot kernel and scipy statistics.

Run with:  gunicorn --bind 0.0.0.0:8000 app:app

Endpoints:
    GET /health                                 200 {"status": "ok"}
    GET /mandelbrot?width=80&height=40&iterations=100[&format=json|ascii|pgm]
    GET /stats?n=1000[&dist=normal|uniform|exponential][&seed=42]

numba compiles the kernel when this module is imported, so a worker answers /health only once
the kernel is ready. With NUMBA_CACHE_DIR set (the image sets it under /tmp, as the root
filesystem is read-only) the compiled code is cached there and later workers start faster;
without it nothing is written to disk.
"""

from __future__ import annotations

import math
import os
import secrets
import time

import humanize
import numpy as np
from flask import Flask, Response, jsonify, request
from numba import njit
from scipy import stats
from werkzeug.exceptions import BadRequest, HTTPException

MAX_SIDE = 400
MAX_PIXELS = 100_000
MAX_ITERATIONS = 5_000
MAX_SAMPLES = 1_000_000
ASCII_RAMP = " .:-=+*#%@"
DISTRIBUTIONS = {
    "normal": stats.norm(),
    "uniform": stats.uniform(),
    "exponential": stats.expon(),
}

# Cache compiled code only where the environment says it may be written.
_CACHE = bool(os.environ.get("NUMBA_CACHE_DIR"))


@njit(cache=_CACHE, nogil=True)
def mandelbrot_kernel(width, height, max_iter, x_min, x_max, y_min, y_max):
    """Escape iteration count per pixel; max_iter means the point never escaped."""
    out = np.empty((height, width), dtype=np.int32)
    dx = (x_max - x_min) / max(width - 1, 1)
    dy = (y_max - y_min) / max(height - 1, 1)
    for row in range(height):
        ci = y_max - row * dy
        for col in range(width):
            cr = x_min + col * dx
            zr = 0.0
            zi = 0.0
            n = 0
            while n < max_iter and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                n += 1
            out[row, col] = n
    return out


# Compile now (or load from the cache) rather than on the first request.
mandelbrot_kernel(2, 2, 2, -2.0, 1.0, -1.0, 1.0)

app = Flask(__name__)


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be within {low}..{high}, got {value}")
    return value


def float_arg(name: str, default: float) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be finite, got {raw!r}")
    return value


def choice_arg(name: str, default: str, choices: list[str]) -> str:
    value = request.args.get(name) or default
    if value not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


@app.errorhandler(HTTPException)
def json_error(error: HTTPException):
    return jsonify(error=error.name, detail=error.description), error.code


@app.get("/")
def index():
    return jsonify(
        name="science",
        endpoints=["/health", "/mandelbrot", "/stats"],
        numba_cache=_CACHE,
    )


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/mandelbrot")
def mandelbrot():
    width = int_arg("width", 80, 1, MAX_SIDE)
    height = int_arg("height", 40, 1, MAX_SIDE)
    iterations = int_arg("iterations", 100, 1, MAX_ITERATIONS)
    if width * height > MAX_PIXELS:
        raise BadRequest(f"width * height must be at most {MAX_PIXELS}, got {width * height}")
    x_min = float_arg("x_min", -2.5)
    x_max = float_arg("x_max", 1.0)
    y_min = float_arg("y_min", -1.25)
    y_max = float_arg("y_max", 1.25)
    if not (x_min < x_max and y_min < y_max):
        raise BadRequest("the view needs x_min < x_max and y_min < y_max")
    fmt = choice_arg("format", "json", ["json", "ascii", "pgm"])

    started = time.perf_counter()
    counts = mandelbrot_kernel(width, height, iterations, x_min, x_max, y_min, y_max)
    elapsed = time.perf_counter() - started

    if fmt == "ascii":
        scaled = (counts.astype(np.int64) * (len(ASCII_RAMP) - 1)) // iterations
        lines = ["".join(ASCII_RAMP[v] for v in row) for row in scaled]
        return Response("\n".join(lines) + "\n", mimetype="text/plain")
    if fmt == "pgm":
        # Binary greyscale PGM: inside the set is black, fast escapes are bright.
        shade = np.where(counts >= iterations, 0, 255 - (counts * 255) // iterations)
        header = f"P5\n{width} {height}\n255\n".encode("ascii")
        return Response(
            header + shade.astype(np.uint8).tobytes(), mimetype="image/x-portable-graymap"
        )

    inside = counts >= iterations
    escaped = counts[~inside]
    return jsonify(
        width=width,
        height=height,
        iterations=iterations,
        view={"x_min": x_min, "x_max": x_max, "y_min": y_min, "y_max": y_max},
        pixels=humanize.intcomma(width * height),
        inside_fraction=round(float(inside.mean()), 6),
        mean_escape_iterations=round(float(escaped.mean()), 3) if escaped.size else None,
        histogram=np.bincount(
            np.minimum(counts.ravel() * 10 // iterations, 10), minlength=11
        ).tolist(),
        elapsed_seconds=round(elapsed, 6),
        elapsed=humanize.precisedelta(elapsed, minimum_unit="microseconds", format="%0.0f"),
    )


@app.get("/stats")
def summary_stats():
    n = int_arg("n", 1_000, 2, MAX_SAMPLES)
    dist_name = choice_arg("dist", "normal", sorted(DISTRIBUTIONS))
    seed = int_arg("seed", secrets.randbelow(2**31), 0, 2**32 - 1)
    dist = DISTRIBUTIONS[dist_name]

    sample = dist.rvs(size=n, random_state=np.random.default_rng(seed))
    described = stats.describe(sample)
    q05, q25, q50, q75, q95 = np.percentile(sample, [5, 25, 50, 75, 95])
    ks = stats.kstest(sample, dist.cdf)
    return jsonify(
        distribution=dist_name,
        seed=seed,
        n=n,
        n_human=humanize.intword(n) if n >= 1_000_000 else humanize.intcomma(n),
        sample_memory=humanize.naturalsize(sample.nbytes, binary=True),
        mean=float(described.mean),
        variance=float(described.variance),
        std=float(np.sqrt(described.variance)),
        min=float(described.minmax[0]),
        max=float(described.minmax[1]),
        skewness=float(described.skewness),
        excess_kurtosis=float(described.kurtosis),
        percentiles={
            "5": float(q05),
            "25": float(q25),
            "50": float(q50),
            "75": float(q75),
            "95": float(q95),
        },
        sem=float(stats.sem(sample)),
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
    )
