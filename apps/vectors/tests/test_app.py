"""In-process tests of the vectors service through FastAPI's TestClient (needs httpx2).

Install with: pip install -r apps/vectors/tests/requirements.txt
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import pytest

if not (importlib.util.find_spec("httpx2") or importlib.util.find_spec("httpx")):
    pytest.skip("TestClient needs httpx2 (or httpx)", allow_module_level=True)
from fastapi.testclient import TestClient  # noqa: E402
from vectors.main import Settings, create_app  # noqa: E402

from vectors import __version__  # noqa: E402


def wait_ready(client: TestClient) -> dict:
    for _ in range(200):  # at most about 10 s
        response = client.get("/ready")
        if response.status_code == 200:
            return response.json()
        time.sleep(0.05)
    pytest.fail(f"/ready never turned 200: {response.status_code} {response.text}")


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as test_client:
        wait_ready(test_client)
        yield test_client


def test_version_comes_from_the_version_file() -> None:
    version_file = Path(__file__).resolve().parents[1] / "VERSION"
    assert __version__ == version_file.read_text().strip() == "0.3.1"


def test_health_answers_without_the_index_and_ready_waits(tmp_path: Path) -> None:
    # Without the context manager the lifespan never runs, so the index is never loaded.
    bare = TestClient(create_app(Settings(data_dir=tmp_path)))
    health = bare.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = bare.get("/ready")
    assert ready.status_code == 503 and ready.json()["status"] == "loading"
    assert bare.get("/search", params={"q": "1,0"}).status_code == 503


def test_ready_after_startup(client: TestClient) -> None:
    body = client.get("/ready").json()
    assert body == {"status": "ready", "vectors": 0, "dim": None, "persistent": True}


def test_add_and_search_by_cosine_similarity(client: TestClient) -> None:
    for vid, vector in {"x": [1, 0, 0], "xy": [1, 1, 0], "y": [0, 2, 0], "z": [0, 0, 3]}.items():
        response = client.post("/vectors", json={"id": vid, "vector": vector})
        assert response.status_code == 201, response.text
        assert response.json()["created"] is True

    response = client.get("/search", params={"q": "2,0.1,0", "k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["x", "xy", "y"]
    assert results[0]["score"] == pytest.approx(2 / np.hypot(2, 0.1), abs=1e-5)
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]

    # k larger than the index returns everything; replacing an id keeps the count.
    assert len(client.get("/search?q=1,1,1&k=50").json()["results"]) == 4
    replaced = client.post("/vectors", json={"id": "z", "vector": [1, 0, 0]})
    assert replaced.status_code == 200 and replaced.json()["created"] is False
    assert replaced.json()["vectors"] == 4


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("q=a,b", 400),
        ("q=1,2", 400),  # wrong dimension
        ("q=0,0,0", 400),  # zero vector
        ("q=nan,1,1", 400),
        ("q=1,2,3&k=0", 422),
        ("q=1,2,3&k=1000", 422),
        ("", 422),
    ],
)
def test_search_rejects_bad_queries(client: TestClient, query: str, code: int) -> None:
    client.post("/vectors", json={"id": "a", "vector": [1, 2, 3]})
    assert client.get(f"/search?{query}").status_code == code


def test_add_rejects_bad_vectors(client: TestClient) -> None:
    assert client.post("/vectors", json={"id": "a", "vector": [1, 2]}).status_code == 201
    assert client.post("/vectors", json={"id": "b", "vector": [1, 2, 3]}).status_code == 400
    assert client.post("/vectors", json={"id": "c", "vector": [0, 0]}).status_code == 400
    assert client.post("/vectors", json={"id": "", "vector": [1, 2]}).status_code == 422
    assert client.post("/vectors", json={"id": "d", "vector": []}).status_code == 422
    assert client.post("/vectors", json={"vector": [1, 2]}).status_code == 422


def test_search_on_an_empty_index(client: TestClient) -> None:
    response = client.get("/search?q=1,2,3")
    assert response.status_code == 200 and response.json()["results"] == []


def test_writes_persist_and_reload(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as first:
        wait_ready(first)
        assert first.post("/vectors", json={"id": "keep", "vector": [3, 4]}).json()["persisted"]
    assert (tmp_path / "vectors.npy").is_file()
    assert json.loads((tmp_path / "ids.json").read_text()) == ["keep"]

    with TestClient(create_app(Settings(data_dir=tmp_path))) as second:
        assert wait_ready(second)["vectors"] == 1
        assert second.get("/search?q=3,4&k=1").json()["results"][0]["id"] == "keep"


def test_loads_a_vectors_file_without_ids(tmp_path: Path) -> None:
    np.save(tmp_path / "vectors.npy", np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32))
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert wait_ready(client)["dim"] == 2
        assert client.get("/search?q=0,5&k=1").json()["results"][0]["id"] == "1"


def test_missing_data_dir_keeps_writes_in_memory(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "absent"))) as client:
        assert wait_ready(client)["persistent"] is False
        body = client.post("/vectors", json={"id": "m", "vector": [1, 1]}).json()
        assert body["persisted"] is False and body["vectors"] == 1
        assert "vectors_persist_skipped_total 1" in client.get("/metrics").text
    assert not (tmp_path / "absent").exists()


def test_corrupt_data_file_stays_unready(tmp_path: Path) -> None:
    (tmp_path / "vectors.npy").write_bytes(b"not a numpy file")
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        for _ in range(100):  # the loader runs in a thread: wait for its verdict
            ready = client.get("/ready")
            if ready.json()["status"] != "loading":
                break
            time.sleep(0.05)
        assert ready.status_code == 503 and ready.json()["status"] == "error"
        assert client.get("/health").status_code == 200
        assert client.post("/vectors", json={"id": "a", "vector": [1]}).status_code == 503
    assert (tmp_path / "vectors.npy").read_bytes() == b"not a numpy file"


def test_token_protects_writes_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_token="s3cret")
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        body = {"id": "t", "vector": [1, 2]}
        denied = client.post("/vectors", json=body)
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
        wrong = client.post("/vectors", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.post("/vectors", json=body, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 201
        assert client.get("/search?q=1,2").status_code == 200  # reads stay open
        assert "vectors_auth_failures_total 2" in client.get("/metrics").text


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VECTORS_DATA_DIR", raising=False)
    monkeypatch.delenv("VECTORS_API_TOKEN", raising=False)
    assert Settings.from_env() == Settings(data_dir=Path("/data"), api_token=None)
    monkeypatch.setenv("VECTORS_DATA_DIR", "/srv/vectors")
    monkeypatch.setenv("VECTORS_API_TOKEN", "abc")
    assert Settings.from_env() == Settings(data_dir=Path("/srv/vectors"), api_token="abc")


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    client.post("/vectors", json={"id": "a", "vector": [1, 2, 3]})
    client.get("/search?q=1,2,3")
    client.get("/no-such-path")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert "# TYPE vectors_http_requests_total counter" in text
    assert 'vectors_http_requests_total{method="GET",path="/search",status="200"} 1' in text
    assert 'vectors_http_requests_total{method="GET",path="other",status="404"} 1' in text
    assert "vectors_added_total 1" in text
    assert "vectors_searches_total 1" in text
    assert "vectors_index_size 1" in text
    assert "vectors_index_dimension 3" in text
    assert "vectors_ready 1" in text
    assert f'vectors_build_info{{version="{__version__}"}} 1' in text
