"""An in-memory vector index with cosine-similarity search and optional persistence.

On disk the index is two files in one directory:
    vectors.npy  float32 matrix, one row per vector (numpy's own format, loaded without pickle)
    ids.json     JSON list of the row ids, in row order (absent: rows are named "0", "1", ...)
Both are written to a temporary name first and then renamed, so a crash never leaves a torn file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.npy"
IDS_FILE = "ids.json"


class StoreError(ValueError):
    """A request the index cannot satisfy (bad dimension, zero vector, ...)."""


@dataclass(frozen=True)
class Hit:
    id: str
    score: float


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0.0, 1.0, norms)


class VectorStore:
    """Thread-safe: handlers run in a thread pool, so every read and write takes the lock."""

    def __init__(self, data_dir: Path | None = None, max_vectors: int = 100_000) -> None:
        self.data_dir = data_dir
        self.max_vectors = max_vectors
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._unit = np.zeros((0, 0), dtype=np.float32)

    # -- state -------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self._ids)

    @property
    def dim(self) -> int | None:
        return self._vectors.shape[1] if self._ids else None

    def writable(self) -> bool:
        """Whether the data directory exists and accepts writes (not on a read-only mount)."""
        return (
            self.data_dir is not None
            and self.data_dir.is_dir()
            and os.access(self.data_dir, os.W_OK | os.X_OK)
        )

    # -- persistence -------------------------------------------------------------------------
    def load(self) -> int:
        """Load the index from the data directory if a vectors file is there; return the count.

        A missing directory or file means an empty index. A file that exists but cannot be read
        raises, so the service stays unready rather than silently starting empty and later
        overwriting the data.
        """
        if self.data_dir is None:
            return 0
        vectors_path = self.data_dir / VECTORS_FILE
        if not vectors_path.is_file():
            return 0
        matrix = np.load(vectors_path, allow_pickle=False)
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise ValueError(f"{VECTORS_FILE} must hold a 2-D matrix, got shape {matrix.shape}")
        matrix = np.asarray(matrix, dtype=np.float32)
        if not np.isfinite(matrix).all():
            raise ValueError(f"{VECTORS_FILE} holds non-finite values")
        ids_path = self.data_dir / IDS_FILE
        if ids_path.is_file():
            ids = [str(i) for i in json.loads(ids_path.read_text(encoding="utf-8"))]
            if len(ids) != matrix.shape[0]:
                raise ValueError(f"{IDS_FILE} has {len(ids)} ids for {matrix.shape[0]} vectors")
            if len(set(ids)) != len(ids):
                raise ValueError(f"{IDS_FILE} holds duplicate ids")
        else:
            ids = [str(i) for i in range(matrix.shape[0])]
        with self._lock:
            self._ids = ids
            self._rows = {vid: row for row, vid in enumerate(ids)}
            self._vectors = matrix
            self._unit = _normalise(matrix)
        return len(ids)

    def _save_locked(self) -> bool:
        """Write the index atomically; return False when the directory is not writable."""
        if not self.writable():
            return False
        assert self.data_dir is not None
        self._atomic_write(VECTORS_FILE, lambda f: np.save(f, self._vectors, allow_pickle=False))
        payload = json.dumps(self._ids).encode("utf-8")
        self._atomic_write(IDS_FILE, lambda f: f.write(payload))
        return True

    def _atomic_write(self, name: str, write) -> None:
        assert self.data_dir is not None
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self.data_dir)
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes 0600; keep the data readable by backup jobs
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.data_dir / name)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    # -- operations --------------------------------------------------------------------------
    def add(self, vector_id: str, vector: list[float]) -> tuple[bool, bool]:
        """Add or replace a vector. Returns (created, persisted)."""
        row = np.asarray(vector, dtype=np.float32)
        if row.ndim != 1 or row.size == 0:
            raise StoreError("vector must be a non-empty list of numbers")
        if not np.isfinite(row).all():
            raise StoreError("vector values must be finite")
        if not np.any(row):
            raise StoreError("vector must not be all zeros (cosine similarity is undefined)")
        with self._lock:
            if self._ids and row.size != self._vectors.shape[1]:
                raise StoreError(
                    f"vector has dimension {row.size}, the index holds dimension "
                    f"{self._vectors.shape[1]}"
                )
            unit = row / np.linalg.norm(row)
            existing = self._rows.get(vector_id)
            if existing is not None:
                self._vectors[existing] = row
                self._unit[existing] = unit
                created = False
            else:
                if len(self._ids) >= self.max_vectors:
                    raise StoreError(f"the index is full ({self.max_vectors} vectors)")
                if not self._ids:
                    self._vectors = row[np.newaxis, :].copy()
                    self._unit = unit[np.newaxis, :].astype(np.float32)
                else:
                    self._vectors = np.vstack((self._vectors, row))
                    self._unit = np.vstack((self._unit, unit.astype(np.float32)))
                self._rows[vector_id] = len(self._ids)
                self._ids.append(vector_id)
                created = True
            try:
                persisted = self._save_locked()
            except OSError as exc:  # the volume failed under us: keep the write in memory
                log.error("could not persist the index to %s: %s", self.data_dir, exc)
                persisted = False
        return created, persisted

    def search(self, query: list[float], k: int) -> list[Hit]:
        """The k most similar vectors by cosine similarity, best first."""
        q = np.asarray(query, dtype=np.float32)
        if q.ndim != 1 or q.size == 0:
            raise StoreError("query must be a non-empty list of numbers")
        if not np.isfinite(q).all():
            raise StoreError("query values must be finite")
        norm = float(np.linalg.norm(q))
        if norm == 0.0:
            raise StoreError("query must not be all zeros")
        with self._lock:
            if not self._ids:
                return []
            if q.size != self._unit.shape[1]:
                raise StoreError(
                    f"query has dimension {q.size}, the index holds dimension {self._unit.shape[1]}"
                )
            scores = self._unit @ (q / norm)
            k = min(k, scores.size)
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            return [Hit(self._ids[i], float(scores[i])) for i in top]
