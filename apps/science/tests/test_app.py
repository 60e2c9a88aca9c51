"""In-process tests of the science service through Flask's test client.

Needs the environment's packages (numpy, scipy, numba, flask, humanize); they install from
conda (environment.yml) or, for a quick local run, from pip.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

for module in ("numba", "scipy", "flask", "humanize"):
    pytest.importorskip(module)

# Keep numba's cache out of the source tree, as the image does with NUMBA_CACHE_DIR under /tmp.
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="numba-cache-"))

import numpy as np  # noqa: E402
from app import app, mandelbrot_kernel  # noqa: E402

APP_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def client():
    app.config.update(TESTING=True)
    return app.test_client()


def test_health(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_kernel_matches_known_points() -> None:
    # A 3x3 grid over [-2, 2] x [-2, 2]: only the centre (c = 0) stays bounded.
    counts = mandelbrot_kernel(3, 3, 50, -2.0, 2.0, -2.0, 2.0)
    assert counts.shape == (3, 3)
    assert counts[1, 1] == 50
    assert counts[0, 0] < 3 and counts[2, 2] < 3
    np.testing.assert_array_equal(counts, counts[::-1, :])  # symmetric about the real axis


def test_mandelbrot_json(client) -> None:
    response = client.get("/mandelbrot?width=60&height=30&iterations=80")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["width"], body["height"], body["iterations"]) == (60, 30, 80)
    assert 0.05 < body["inside_fraction"] < 0.5
    assert sum(body["histogram"]) == 60 * 30
    assert body["pixels"] == "1,800"


def test_mandelbrot_ascii_and_pgm(client) -> None:
    ascii_art = client.get("/mandelbrot?width=40&height=12&iterations=50&format=ascii")
    assert ascii_art.status_code == 200 and ascii_art.mimetype == "text/plain"
    lines = ascii_art.get_data(as_text=True).splitlines()
    assert len(lines) == 12 and all(len(line) == 40 for line in lines)
    assert "@" in ascii_art.get_data(as_text=True)  # the set itself

    pgm = client.get("/mandelbrot?width=20&height=10&format=pgm")
    assert pgm.status_code == 200
    data = pgm.get_data()
    assert data.startswith(b"P5\n20 10\n255\n") and len(data) == len(b"P5\n20 10\n255\n") + 200


@pytest.mark.parametrize(
    "query",
    [
        "width=abc",
        "width=0",
        "height=401",
        "iterations=0",
        "iterations=100000",
        "width=400&height=300",  # over MAX_PIXELS
        "x_min=1&x_max=-1",
        "x_min=nan",
        "format=png",
    ],
)
def test_mandelbrot_rejects_bad_input(client, query: str) -> None:
    response = client.get(f"/mandelbrot?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"] == "Bad Request"


def test_stats_normal_sample(client) -> None:
    response = client.get("/stats?n=20000&seed=7")
    assert response.status_code == 200
    body = response.get_json()
    assert body["distribution"] == "normal" and body["seed"] == 7 and body["n_human"] == "20,000"
    assert abs(body["mean"]) < 0.05 and abs(body["std"] - 1) < 0.05
    assert body["percentiles"]["5"] < body["percentiles"]["50"] < body["percentiles"]["95"]
    assert body["ks_pvalue"] > 0.001
    # The same seed gives the same sample.
    assert client.get("/stats?n=20000&seed=7").get_json()["mean"] == body["mean"]


def test_stats_other_distributions(client) -> None:
    uniform = client.get("/stats?n=5000&dist=uniform&seed=1").get_json()
    assert 0 <= uniform["min"] and uniform["max"] <= 1
    expon = client.get("/stats?n=5000&dist=exponential&seed=1").get_json()
    assert expon["skewness"] > 1


@pytest.mark.parametrize("query", ["n=1", "n=x", "n=2000000", "dist=cauchy", "seed=-1"])
def test_stats_rejects_bad_input(client, query: str) -> None:
    assert client.get(f"/stats?{query}").status_code == 400


def test_unknown_path_is_json_404(client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404 and response.get_json()["error"] == "Not Found"


def test_environment_file_pins_the_stack() -> None:
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((APP_DIR / "environment.yml").read_text())
    assert env["name"] == "science" and env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    names = {d.split("=")[0] for d in conda}
    assert {"python", "numpy", "scipy", "numba", "flask", "gunicorn", "pip"} <= names
    assert all("=" in d for d in conda)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip and all("==" in d for d in pip)
