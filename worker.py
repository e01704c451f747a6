"""The worker: runs the workflows and the memory activities.

    python worker.py          connect to the services named by environment variables
    python worker.py --dev    start the embedded stack (Temporal dev server with UI,
                              Postgres with pgvector, FalkorDB/Redis) and run against it
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from contract.learning import RETENTION_SCHEDULE_ID, RetentionPolicy
from contract.names import background_task_queue
from memory.core.config import Settings, SettingsError
from memory.core.db import upgrade_schema
from memory.core.metrics import observe_layer_latency
from memory.core.telemetry import (
    configure_tracing,
    install_log_context,
    set_latency_observer,
    shutdown_tracing,
)
from memory.learning.models import GrowthPolicy
from memory.runtime import MemoryRuntime
from wiring.checks import (
    ServiceUnavailable,
    check_command_sandbox,
    check_database,
    check_graph,
    check_redis_url,
)
from wiring.metrics_endpoint import (
    free_loopback_port,
    sdk_metrics_url,
    serve_metrics,
    temporal_runtime,
)
from wiring.plugin import MemoryWorkerPlugin
from wiring.schedules import ensure_retention_schedule
from wiring.temporal_client import ClientConfigError, client_options, connect_config
from wiring.workers import MemoryWorkers, background_slots

log = logging.getLogger("worker")


def build_worker(client: Client, runtime: MemoryRuntime, *, task_queue: str, **options) -> MemoryWorkers:
    """The workers for task_queue: the turns' worker and, on the background queue beside it,
    the one that runs what turns start after their reply (both registering everything)."""
    # Retrieval latencies measured by the layer spans feed the per-layer histogram.
    set_latency_observer(observe_layer_latency)
    # On shutdown, let running activities (a graph ingestion, a model call) finish and
    # report, rather than leave the server waiting out their timeouts before a retry.
    options.setdefault("graceful_shutdown_timeout", timedelta(seconds=15))
    extra_plugins = options.pop("plugins", [])

    def worker(queue: str, **slots) -> Worker:
        return Worker(client, task_queue=queue, plugins=[MemoryWorkerPlugin(runtime), *extra_plugins], **{**options, **slots})

    background = worker(background_task_queue(task_queue), **background_slots(runtime.settings))
    return MemoryWorkers(worker(task_queue), background)


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """By the SDK's environment configuration (profile, TLS, API key); TEMPORAL_ADDRESS and
    TEMPORAL_NAMESPACE, or the embedded stack's address, as the settings hold them."""
    try:
        config = connect_config(address=settings.temporal_address, namespace=settings.temporal_namespace)
        options = client_options(database_url=settings.database_url)
    except ClientConfigError as err:
        raise ServiceUnavailable(str(err)) from None
    try:
        return await Client.connect(**{**config, **options}, runtime=runtime)
    except Exception as err:
        raise ServiceUnavailable(
            f"cannot reach Temporal at TEMPORAL_ADDRESS={config['target_host']} "
            f"(namespace TEMPORAL_NAMESPACE={config['namespace']}): {err}"
        ) from None


async def serve(settings: Settings, *, api_port: int | None = None, dev_key_file: Path | None = None) -> None:
    await check_database(settings)
    await check_redis_url("REDIS_URL", settings.redis_url)
    await check_graph(settings)
    log.info("command tool sandbox: %s", await asyncio.to_thread(check_command_sandbox, settings))
    await asyncio.to_thread(upgrade_schema, settings.database_url)
    metrics = None
    temporal_runtime_ = None
    if settings.metrics_port:
        # The SDK exports on a free loopback port; the worker's endpoint serves both sets of metrics.
        sdk_address = f"127.0.0.1:{free_loopback_port()}"
        try:
            metrics = serve_metrics(settings.metrics_port, sdk_metrics_url(sdk_address), host=settings.metrics_host)
        except OSError as err:
            raise ServiceUnavailable(
                f"cannot serve metrics on METRICS_HOST={settings.metrics_host} METRICS_PORT={settings.metrics_port}: {err}"
            ) from None
        temporal_runtime_ = temporal_runtime(sdk_address)
        log.info("metrics at http://%s:%d/metrics", settings.metrics_host, metrics.port)
    client = await connect(settings, temporal_runtime_)
    if settings.retention_schedule_hours > 0:
        created = await ensure_retention_schedule(
            client,
            task_queue=settings.task_queue,
            every=timedelta(hours=settings.retention_schedule_hours),
            policy=RetentionPolicy(
                episode_retention_days=settings.episode_retention_days,
                recall_retention_days=settings.recall_retention_days,
                growth=GrowthPolicy.from_settings(settings),
            ),
        )
        log.info("retention schedule %r %s", RETENTION_SCHEDULE_ID, "created" if created else "already exists")
    runtime = MemoryRuntime.create(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker ready on task queue %r; model %s/%s; new tenants embed with %s",
        settings.task_queue,
        runtime.llm.provider,
        runtime.llm.model,
        settings.embedding_model,
    )
    api = await _start_api(client, runtime, api_port, dev_key_file) if api_port else None
    try:
        async with build_worker(client, runtime, task_queue=settings.task_queue):
            await stop.wait()
            log.info("stopping: finishing running activities")
            if api is not None:
                api[0].should_exit = True
                await api[1]
    finally:
        await runtime.close()
        shutdown_tracing()
        if metrics is not None:
            metrics.close()


async def _start_api(client: Client, runtime: MemoryRuntime, port: int, key_file: Path | None):
    """The HTTP API beside the worker (dev stack), with a printed operator key of tenant `dev`."""
    from api.keys import KeyStore
    from api.serve import DEV_TENANT, dev_key, server
    from api.services import ApiServices, ApiSettings

    services = ApiServices(temporal=client, runtime=runtime, keys=KeyStore(runtime.engine), settings=ApiSettings.from_env())
    api_server = server(services, port=port, hosted=True)
    task = asyncio.create_task(api_server.serve())
    key = await dev_key(services.keys, key_file) if key_file else None
    log.info("API at http://127.0.0.1:%d/v1 (docs at /docs)", port)
    if key:
        print(f"\n  dev API key (tenant {DEV_TENANT}, scope operator): {key}\n  export AGENT_MEMORY_KEY={key}\n", flush=True)
    return api_server, task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", action="store_true", help="start and use the embedded stack")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("AGENT_MEMORY_DATA_DIR", ".data")),
        help="where the embedded stack keeps its data (default .data)",
    )
    parser.add_argument(
        "--api-port",
        type=int,
        default=int(os.environ.get("API_PORT", "8420")),
        help="with --dev, the port of the HTTP API served beside the worker (0: no API)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    # Every line names the tenant, agent, thread and trace it was written for.
    install_log_context()
    configure_tracing()
    settings = Settings.from_env()
    if not args.dev:
        asyncio.run(serve(settings))
        return

    from stack.embedded import EmbeddedStack

    with EmbeddedStack.from_env(args.data_dir.resolve()) as stack:
        urls = stack.urls
        settings = settings.model_copy(
            update={
                "temporal_address": urls.temporal_address,
                "database_url": urls.database_url,
                "redis_url": urls.redis_url,
                "graph_url": urls.graph_url,
            }
        )
        # Operator clients that read the stores directly (switches, usage, notebook show)
        # find the stack through these variables: `set -a; . .data/stack.env; set +a`.
        env_file = args.data_dir / "stack.env"
        env_file.write_text("".join(f"{key}={value}\n" for key, value in urls.as_env().items()))
        log.info("embedded stack up: Temporal UI at %s; data in %s; variables in %s", urls.ui_url, args.data_dir, env_file)
        asyncio.run(serve(settings, api_port=args.api_port or None, dev_key_file=args.data_dir / "dev-api-key"))


if __name__ == "__main__":
    try:
        main()
    except (ServiceUnavailable, SettingsError) as err:
        raise SystemExit(f"error: {err}") from None
