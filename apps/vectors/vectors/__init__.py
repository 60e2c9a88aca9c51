"""vectors: a small FastAPI vector store with cosine-similarity search."""

from __future__ import annotations

from pathlib import Path


def _read_version() -> str:
    # The VERSION file beside the package is the app's version source.
    try:
        return (Path(__file__).resolve().parent.parent / "VERSION").read_text().strip() or "unknown"
    except OSError:
        return "unknown"


__version__ = _read_version()
