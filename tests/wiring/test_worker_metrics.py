"""The worker serves one Prometheus endpoint with its own metrics and the Temporal SDK's."""

from __future__ import annotations

import asyncio
import urllib.request

from wiring.metrics_endpoint import free_loopback_port
from worker import serve


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


async def test_the_worker_serves_its_metrics_and_the_sdks_on_one_port(dev_env, settings, monkeypatch):
    port = free_loopback_port()
    configured = settings.model_copy(
        update={
            "temporal_address": dev_env.client.service_client.config.target_host,
            "metrics_port": port,
            "task_queue": f"metrics-{port}",
            "retention_schedule_hours": 0,
        }
    )
    worker = asyncio.create_task(serve(configured))
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    text = await asyncio.to_thread(scrape, port)
                except OSError:
                    text = ""
                if "temporal_" in text:
                    break
                await asyncio.sleep(0.2)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert "agent_session_cache_lookups_total" in text or "# HELP agent_session_cache_lookups" in text
    assert "agent_memory_retrieval_seconds" in text
    assert "temporal_" in text
