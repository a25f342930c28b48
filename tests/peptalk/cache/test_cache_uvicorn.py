"""The cache on a real uvicorn, called with RemoteRunnable: hits on invoke and stream, bypass, and a restart."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ARTIFACTS
from tests.helpers import free_port, python, running
from tests.peptalk.cache.test_cache_http import BASE, MODEL


def serve(data_dir: Path):
    port = free_port()
    cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port)]
    env = {"PEPTALK_DATA_DIR": str(data_dir), "PEPTALK_MAX_TOKENS": "24", "PEPTALK_LOG_LEVEL": "WARNING"}
    return f"http://127.0.0.1:{port}", running(cmd, f"http://127.0.0.1:{port}/healthz",
                                               log=ARTIFACTS / "uvicorn-cache.log", env=env)


async def test_remote_runnable_hits_streams_bypasses_and_survives_a_restart(tmp_path: Path) -> None:
    from langserve import RemoteRunnable

    url, server = serve(tmp_path)
    with server:
        remote = RemoteRunnable(f"{url}/peptalk/", timeout=120)
        first = await remote.ainvoke(BASE)
        assert first["model"] == MODEL and first["metadata"]["cache_hit"] is False
        second = await remote.ainvoke(BASE)
        assert second["metadata"]["cache_hit"] is True and second["text"] == first["text"]
        chunks = [chunk async for chunk in remote.astream(BASE)]
        assert chunks[0]["metadata"]["cache_hit"] is True and chunks[0]["model"] == MODEL
        assert sum(1 for chunk in chunks if chunk.get("text")) >= 2
        assert "".join(chunk.get("text", "") for chunk in chunks) == first["text"]
        bypassed = await remote.with_config(configurable={"cache": "bypass"}).ainvoke(BASE)
        assert bypassed["metadata"]["cache_hit"] is False
    # uvicorn got SIGTERM: the lifespan saved the cache on the way out.
    url, server = serve(tmp_path)
    with server:
        after = await RemoteRunnable(f"{url}/peptalk/", timeout=120).ainvoke(BASE)
    assert after["metadata"]["cache_hit"] is True and after["text"] == first["text"]


async def test_two_app_processes_share_exact_and_semantic_hits(tmp_path: Path) -> None:
    """Two uvicorn processes on one SQLite database: an answer stored through one is a hit through the other."""
    import asyncio

    from langserve import RemoteRunnable

    first_url, first_server = serve(tmp_path)
    with first_server:  # started one after the other: the first migrates the database
        second_url, second_server = serve(tmp_path)
        with second_server:
            first, second = (RemoteRunnable(f"{url}/peptalk/", timeout=120) for url in (first_url, second_url))
            user = BASE | {"user_id": "two-processes"}
            stored = await first.ainvoke(user)
            assert stored["metadata"]["cache_hit"] is False
            exact = await second.ainvoke(user | {"goals": ["ship the beta."]})
            assert exact["metadata"]["cache"] == "exact" and exact["text"] == stored["text"]
            await asyncio.sleep(1.0)  # the bound; the other process syncs every 0.2 s
            typo = user | {"focused_tasks": ["Review two pull reqeusts", "Call the bank about the loan"]}
            near = await second.ainvoke(typo)
            assert near["metadata"]["cache"] == "semantic" and near["text"] == stored["text"]
            other_user = await second.ainvoke(typo | {"user_id": "someone-else"})
            assert other_user["metadata"]["cache_hit"] is False
