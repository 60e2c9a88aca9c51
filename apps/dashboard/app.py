"""Fractal explorer: a Streamlit dashboard over the numpy kernels in fractal.py.

Run headless with:
    streamlit run app.py --server.port=8501 --server.address=0.0.0.0 --server.headless=true \
        --browser.gatherUsageStats=false --server.fileWatcherType=none
Streamlit answers its own health check at /_stcore/health.

Environment:
    DASHBOARD_TITLE  optional page title (default "Fractal explorer").
"""

from __future__ import annotations

import os
import time

import fractal
import numpy as np
import streamlit as st

TITLE = os.environ.get("DASHBOARD_TITLE", "").strip() or "Fractal explorer"

st.set_page_config(page_title=TITLE, layout="wide")


@st.cache_data(max_entries=64, show_spinner=False)
def render_escape_time(
    width: int,
    height: int,
    center: tuple[float, float],
    zoom: float,
    max_iter: int,
    julia_c: complex | None,
    palette: str,
) -> tuple[np.ndarray, float, float]:
    """Image, render seconds and fraction of points inside the set; cached per parameter set."""
    started = time.perf_counter()
    values = fractal.escape_time(
        width, height, center=center, zoom=zoom, max_iter=max_iter, julia_c=julia_c
    )
    image = fractal.colorize(values, palette)
    return image, time.perf_counter() - started, float(np.isnan(values).mean())


@st.cache_data(max_entries=64, show_spinner=False)
def render_tree(depth: int, angle: float, ratio: float, size: int) -> tuple[np.ndarray, int, float]:
    """Image, segment count and render seconds; cached per parameter set."""
    started = time.perf_counter()
    segments = fractal.tree_segments(depth, angle, ratio)
    image = fractal.render_tree(segments, size)
    return image, len(segments), time.perf_counter() - started


st.title(TITLE)
st.caption("Escape-time fractals and a branching tree, computed with vectorised numpy.")

with st.sidebar:
    st.header("View")
    mode = st.radio("Fractal", ["Mandelbrot", "Julia", "Branching tree"], index=0)
    resolution = st.select_slider("Resolution (px wide)", options=[320, 480, 640, 800], value=640)

if mode == "Branching tree":
    with st.sidebar:
        depth = st.slider("Depth", 1, fractal.MAX_TREE_DEPTH, 11)
        angle = st.slider("Branch angle (degrees)", 5.0, 90.0, 25.0, step=0.5)
        ratio = st.slider("Length ratio", 0.40, 0.85, 0.70, step=0.01)
    image, count, seconds = render_tree(depth, angle, ratio, resolution)
    cols = st.columns(3)
    cols[0].metric("Segments", f"{count:,}")
    cols[1].metric("Depth", depth)
    cols[2].metric("Render time", f"{seconds * 1000:.0f} ms")
    st.image(image, caption=f"Binary tree, {angle:g} degrees, ratio {ratio:.2f}")
else:
    with st.sidebar:
        max_iter = st.slider("Iterations", 16, 1024, 192, step=16)
        zoom_log2 = st.slider("Zoom (log2)", 0.0, 30.0, 0.0, step=0.5)
        default_x = -0.5 if mode == "Mandelbrot" else 0.0
        center_x = st.number_input("Centre (real)", value=default_x, step=0.01, format="%.8f")
        center_y = st.number_input("Centre (imaginary)", value=0.0, step=0.01, format="%.8f")
        palette = st.selectbox("Palette", sorted(fractal.PALETTES), index=0)
        julia_c: complex | None = None
        if mode == "Julia":
            c_re = st.slider("c (real)", -1.5, 1.5, -0.8, step=0.005)
            c_im = st.slider("c (imaginary)", -1.5, 1.5, 0.156, step=0.005)
            julia_c = complex(c_re, c_im)
    width = int(resolution)
    height = int(resolution * 2 // 3)
    image, seconds, inside = render_escape_time(
        width,
        height,
        (float(center_x), float(center_y)),
        float(2.0**zoom_log2),
        int(max_iter),
        julia_c,
        palette,
    )
    cols = st.columns(3)
    cols[0].metric("Inside the set", f"{inside:.1%}")
    cols[1].metric("Pixels", f"{width * height:,}")
    cols[2].metric("Render time", f"{seconds * 1000:.0f} ms")
    label = (
        mode if julia_c is None else f"Julia set for c = {julia_c.real:+.3f}{julia_c.imag:+.3f}i"
    )
    st.image(image, caption=f"{label}, zoom 2^{zoom_log2:g}, {max_iter} iterations")
