"""Tests of the dashboard: the numpy kernels directly, the page through Streamlit's AppTest,
and the health endpoint of a real headless server on a loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import fractal
import numpy as np
import pytest

APP_DIR = Path(__file__).resolve().parents[1]


def test_mandelbrot_inside_and_outside() -> None:
    # A view centred on the origin: the centre pixel is inside, the corners are far outside.
    values = fractal.escape_time(41, 41, center=(0.0, 0.0), zoom=0.75, max_iter=64)
    assert values.shape == (41, 41)
    assert np.isnan(values[20, 20])  # c = 0 never escapes
    assert np.isfinite(values[0, 0]) and values[0, 0] < 3  # c = -2 + 2i escapes at once
    assert np.nanmin(values) >= 0


def test_mandelbrot_is_symmetric_about_the_real_axis() -> None:
    values = fractal.escape_time(64, 33, center=(-0.5, 0.0), max_iter=80)
    np.testing.assert_allclose(values, values[::-1, :], equal_nan=True, atol=1e-9)


def test_julia_set_differs_from_mandelbrot() -> None:
    mandel = fractal.escape_time(32, 32, max_iter=50)
    julia = fractal.escape_time(
        32, 32, center=(0.0, 0.0), max_iter=50, julia_c=complex(-0.8, 0.156)
    )
    assert not np.array_equal(np.isnan(mandel), np.isnan(julia))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 0, "height": 10},
        {"width": 2000, "height": 2000},
        {"width": 10, "height": 10, "max_iter": 0},
        {"width": 10, "height": 10, "zoom": -1.0},
        {"width": 10, "height": 10, "zoom": float("nan")},
    ],
)
def test_escape_time_rejects_bad_input(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        fractal.escape_time(**kwargs)


def test_colorize_gives_rgb_bytes_and_black_inside() -> None:
    values = fractal.escape_time(20, 20, center=(0.0, 0.0), zoom=0.75, max_iter=32)
    for palette in fractal.PALETTES:
        image = fractal.colorize(values, palette)
        assert image.shape == (20, 20, 3) and image.dtype == np.uint8
        assert (image[np.isnan(values)] == 0).all()
        # Histogram equalisation: the slowest escape gets the palette's last (brightest) stop.
        slowest = np.unravel_index(np.nanargmax(values), values.shape)
        np.testing.assert_array_equal(image[slowest], fractal.PALETTES[palette][-1, 1:])
    with pytest.raises(ValueError):
        fractal.colorize(values, "no-such-palette")


def test_tree_segments_count_and_lengths() -> None:
    segments = fractal.tree_segments(depth=5, angle_deg=30.0, ratio=0.5)
    assert segments.shape == (2**6 - 1, 5)
    trunk = segments[0]
    np.testing.assert_allclose(trunk[:4], [0.0, 0.0, 0.0, 1.0], atol=1e-12)
    lengths = np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])
    np.testing.assert_allclose(lengths, 0.5 ** segments[:, 4])
    with pytest.raises(ValueError):
        fractal.tree_segments(depth=fractal.MAX_TREE_DEPTH + 1)


def test_render_tree_draws_pixels() -> None:
    image = fractal.render_tree(fractal.tree_segments(6), size=128)
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8
    background = np.all(image == 16, axis=-1)
    assert 0.01 < 1 - background.mean() < 0.5


def test_app_script_compiles() -> None:
    source = (APP_DIR / "app.py").read_text(encoding="utf-8")
    compile(source, "app.py", "exec")  # a syntax error raises here; nothing is written


def test_page_renders_in_apptest(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DASHBOARD_TITLE", "Test fractals")
    at = AppTest.from_file(str(APP_DIR / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Test fractals"
    assert len(at.metric) == 3

    at.sidebar.radio[0].set_value("Branching tree").run()
    assert not at.exception
    assert at.metric[0].label == "Segments"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_headless_server_answers_health() -> None:
    pytest.importorskip("streamlit")
    port = _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        f"--server.port={port}", "--server.address=127.0.0.1", "--server.headless=true",
        "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=APP_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        body = None
        for _ in range(60):  # at most about 60 s
            if server.poll() is not None:
                pytest.fail(f"streamlit exited early with code {server.returncode}")
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        body = response.read().decode()
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(1)
        assert body == "ok"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
