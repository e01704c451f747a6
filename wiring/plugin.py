"""The worker as one Temporal plugin: workflows, activities, the sandbox, the data converter with
its codec, tracing and the classification of activity errors. The worker, the tests and the
Replayer all build from it, so a replayed history meets the worker's exact configuration."""

from __future__ import annotations

from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.plugin import SimplePlugin
from temporalio.worker import UnsandboxedWorkflowRunner, WorkerConfig, WorkflowRunner
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from activities.errors import ActivityErrorInterceptor
from activities.registry import all_activities
from codec.aes_gcm import data_converter
from codec.keys import KeyRing
from memory.runtime import MemoryRuntime
from wiring.build_id import worker_build_id
from workflows.registry import WORKFLOWS

# Workflows reach the activity modules (for typed activity references), and through them
# the store clients. Those are never used inside a workflow; passing them through keeps
# the sandbox from re-importing them per workflow run.
SANDBOX_PASSTHROUGH = (
    "anthropic",
    "falkordb",
    "graphiti_core",
    "httpx",
    "neo4j",
    "pgvector",
    "psycopg",
    "redis",
    "sqlalchemy",
)

SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*SANDBOX_PASSTHROUGH)
)


def workflow_runner(sandboxed: bool) -> WorkflowRunner:
    """The sandbox re-creates each workflow's module environment (17 ms per new workflow run
    here: one per turn, for its ingestion child) and crosses into it for every activation and
    every payload: one turn's workflow tasks took 44/18/17/20 ms sandboxed, 26/10/10/13 without.
    Without it, determinism rests on the workflows' own discipline (workflow.now/random, I/O
    only in activities), which CI checks by replaying every recorded history in the sandbox."""
    return SANDBOX if sandboxed else UnsandboxedWorkflowRunner()


class MemoryWorkerPlugin(SimplePlugin):
    """runtime=None registers the workflows only: what a Replayer needs. sandboxed=None follows
    the runtime's WORKFLOW_SANDBOX setting (off when there is no runtime)."""

    def __init__(
        self, runtime: MemoryRuntime | None = None, *, keyring: KeyRing | None = None, sandboxed: bool | None = None
    ) -> None:
        if sandboxed is None:
            sandboxed = runtime is not None and runtime.settings.workflow_sandbox
        super().__init__(
            "agent-memory.worker",
            data_converter=data_converter(keyring),
            interceptors=[TracingInterceptor(), ActivityErrorInterceptor()],
            workflows=WORKFLOWS,
            activities=all_activities(runtime) if runtime is not None else None,
            workflow_runner=workflow_runner(sandboxed),
        )

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        config = super().configure_worker(config)
        if not (config.get("build_id") or config.get("deployment_config")):
            config["build_id"] = worker_build_id()
        # A client built with the project's options traces already: a second tracing
        # interceptor on its worker would double every span.
        client_traces = any(
            isinstance(i, TracingInterceptor) for i in config["client"].config().get("interceptors", [])
        )
        if client_traces:
            config["interceptors"] = [
                i for i in config.get("interceptors", []) if not isinstance(i, TracingInterceptor)
            ]
        return config
