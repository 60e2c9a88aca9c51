"""FastAPI vector store: add vectors, search them by cosine similarity.

Run with:  uvicorn vectors.main:app --host 0.0.0.0 --port 8000
(uvicorn turns SIGTERM into a graceful shutdown: in-flight requests finish, then the lifespan ends.)

Endpoints:
    GET  /health    liveness: 200 {"status": "ok"} while the process runs; checks nothing else
    GET  /ready     readiness: 503 until the index is loaded, then 200
    POST /vectors   add or replace {"id": "...", "vector": [floats]}
    GET  /search    ?q=1,2,3&k=3: the k nearest vectors by cosine similarity
    GET  /metrics   Prometheus text format

Environment:
    VECTORS_DATA_DIR     directory holding vectors.npy / ids.json (default /data). Loaded at
                         startup if present; written after each change only if the directory is
                         writable (the root filesystem is read-only; /data is a volume).
    VECTORS_API_TOKEN    if set, POST /vectors needs "Authorization: Bearer <token>".
    VECTORS_MAX_VECTORS  cap on the number of vectors held in memory (default 100000).
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from . import __version__
from .metrics import CONTENT_TYPE, Metrics
from .store import StoreError, VectorStore

log = logging.getLogger("uvicorn.error").getChild("vectors")

MAX_DIMENSION = 4096
MAX_K = 100
KNOWN_PATHS = frozenset({"/", "/health", "/ready", "/vectors", "/search", "/metrics"})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("/data")
    api_token: str | None = None
    max_vectors: int = 100_000

    @classmethod
    def from_env(cls) -> Settings:
        token = os.environ.get("VECTORS_API_TOKEN", "").strip() or None
        return cls(
            data_dir=Path(os.environ.get("VECTORS_DATA_DIR", "").strip() or "/data"),
            api_token=token,
            max_vectors=int(os.environ.get("VECTORS_MAX_VECTORS", "").strip() or 100_000),
        )


@dataclass
class Readiness:
    """Set by the loader thread; read by /ready and the data endpoints."""

    loaded: threading.Event = field(default_factory=threading.Event)
    error: str | None = None


class VectorIn(BaseModel):
    id: str = Field(min_length=1, max_length=256)
    vector: list[float] = Field(min_length=1, max_length=MAX_DIMENSION)


def _declare_metrics(metrics: Metrics) -> None:
    metrics.declare(
        "vectors_http_requests_total",
        "HTTP requests handled, by method, path and status code.",
        "counter",
        ("method", "path", "status"),
    )
    metrics.declare(
        "vectors_http_request_seconds_total",
        "Seconds spent handling HTTP requests, by path.",
        "counter",
        ("path",),
    )
    metrics.declare("vectors_added_total", "Vectors added to the index.", "counter")
    metrics.declare("vectors_replaced_total", "Vectors replaced by a later write.", "counter")
    metrics.declare("vectors_searches_total", "Similarity searches answered.", "counter")
    metrics.declare(
        "vectors_persist_skipped_total",
        "Writes kept in memory only because the data directory is not writable.",
        "counter",
    )
    metrics.declare("vectors_auth_failures_total", "Writes refused for a bad token.", "counter")
    metrics.declare("vectors_index_size", "Vectors held in memory.", "gauge")
    metrics.declare("vectors_index_dimension", "Dimension of the vectors in the index.", "gauge")
    metrics.declare("vectors_ready", "1 once the index is loaded, else 0.", "gauge")
    metrics.declare(
        "vectors_build_info", "Build information; the value is always 1.", "gauge", ("version",)
    )
    metrics.declare("vectors_start_time_seconds", "Unix time the process started.", "gauge")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own Settings, the module-level `app` reads the env."""
    settings = settings or Settings.from_env()
    store = VectorStore(settings.data_dir, max_vectors=settings.max_vectors)
    readiness = Readiness()
    metrics = Metrics()
    _declare_metrics(metrics)
    metrics.set("vectors_build_info", 1, version=__version__)
    metrics.set("vectors_start_time_seconds", round(time.time(), 3))

    def load_index() -> None:
        started = time.perf_counter()
        try:
            count = store.load()
        except Exception as exc:  # a broken data file: stay unready, never overwrite it
            readiness.error = f"{type(exc).__name__}: {exc}"
            log.error("could not load the index from %s: %s", settings.data_dir, readiness.error)
            return
        readiness.loaded.set()
        log.info(
            "index loaded: %d vectors from %s in %.3f s (persistence %s)",
            count,
            settings.data_dir,
            time.perf_counter() - started,
            "on" if store.writable() else "off: directory missing or read-only",
        )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Load in the background so /health answers at once and /ready tells the truth meanwhile.
        threading.Thread(target=load_index, name="vectors-load", daemon=True).start()
        yield
        log.info("shutting down with %d vectors in memory", store.count)

    app = FastAPI(title="vectors", version=__version__, lifespan=lifespan)
    app.state.store = store
    app.state.readiness = readiness
    app.state.metrics = metrics

    @app.middleware("http")
    async def count_requests(request: Request, call_next):
        started = time.perf_counter()
        path = request.url.path if request.url.path in KNOWN_PATHS else "other"
        code = 500
        try:
            response = await call_next(request)
            code = response.status_code
            return response
        finally:
            metrics.inc(
                "vectors_http_requests_total", method=request.method, path=path, status=str(code)
            )
            metrics.inc(
                "vectors_http_request_seconds_total", time.perf_counter() - started, path=path
            )

    def require_ready() -> None:
        if not readiness.loaded.is_set():
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "index not loaded yet")

    def check_token(authorization: str | None) -> None:
        if settings.api_token is None:
            return
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), settings.api_token.encode()
        ):
            metrics.inc("vectors_auth_failures_total")
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.get("/")
    def info() -> dict:
        return {"name": "vectors", "version": __version__, "vectors": store.count, "dim": store.dim}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> JSONResponse:
        if readiness.loaded.is_set():
            return JSONResponse(
                {
                    "status": "ready",
                    "vectors": store.count,
                    "dim": store.dim,
                    "persistent": store.writable(),
                }
            )
        body = (
            {"status": "error", "detail": readiness.error}
            if readiness.error
            else {"status": "loading"}
        )
        return JSONResponse(body, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)

    @app.post("/vectors", status_code=status.HTTP_201_CREATED)
    def add_vector(
        item: VectorIn,
        response: Response,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict:
        check_token(authorization)
        require_ready()
        try:
            created, persisted = store.add(item.id, item.vector)
        except StoreError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
        metrics.inc("vectors_added_total" if created else "vectors_replaced_total")
        if not persisted:
            metrics.inc("vectors_persist_skipped_total")
        if not created:
            response.status_code = status.HTTP_200_OK
        return {
            "id": item.id,
            "created": created,
            "persisted": persisted,
            "vectors": store.count,
            "dim": store.dim,
        }

    @app.get("/search")
    def search(
        q: Annotated[
            str, Query(min_length=1, max_length=65_536, description="comma-separated floats")
        ],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 3,
    ) -> dict:
        require_ready()
        try:
            query = [float(part) for part in q.split(",")]
        except ValueError as exc:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "q must be comma-separated numbers, e.g. q=1,2,3"
            ) from exc
        if len(query) > MAX_DIMENSION:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"q has more than {MAX_DIMENSION} values"
            )
        try:
            hits = store.search(query, k)
        except StoreError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
        metrics.inc("vectors_searches_total")
        return {"k": k, "results": [{"id": h.id, "score": round(h.score, 6)} for h in hits]}

    @app.get("/metrics")
    def prometheus() -> Response:
        metrics.set("vectors_index_size", store.count)
        metrics.set("vectors_index_dimension", store.dim or 0)
        metrics.set("vectors_ready", 1 if readiness.loaded.is_set() else 0)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return app


app = create_app()
