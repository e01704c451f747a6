"""Activity options by kind of work: how long to wait and how to retry."""

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig, LocalActivityConfig

# Store reads and writes: fast, and transient failures (a restarting database) heal.
MEMORY_IO = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(minutes=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=20)),
)

# The turn's short writes, run inside the workflow task (local activities): a caller is
# waiting, and a server round trip each would cost more than the write. An attempt that
# outlives the workflow task's timeout would stall the task, hence the shorter limit;
# retries keep MEMORY_IO's backoff and total.
LOCAL_STORE_WRITE = LocalActivityConfig(
    start_to_close_timeout=timedelta(seconds=5),
    schedule_to_close_timeout=MEMORY_IO["schedule_to_close_timeout"],
    retry_policy=MEMORY_IO["retry_policy"],
)

# Calls that embed text: bounded by the provider, retried with backoff on rate limits.
EMBEDDING_CALL = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=60),
    schedule_to_close_timeout=timedelta(minutes=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)),
)

# Model calls: a per-attempt timeout so a hung call is abandoned, and a bounded total.
MODEL_CALL = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=120),
    schedule_to_close_timeout=timedelta(minutes=10),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=60),
        maximum_attempts=8,
    ),
)

# A dead worker is noticed when its heartbeats stop, not when a whole attempt times out
# (two minutes for a model call). The turn's longer calls heartbeat while they wait
# (activities/heartbeat.py); a caller is waiting on them. Store reads and writes are kept
# short by MEMORY_IO's attempt timeout instead.
TURN_HEARTBEAT_TIMEOUT = timedelta(seconds=20)
TURN_MODEL_CALL = ActivityConfig(**MODEL_CALL, heartbeat_timeout=TURN_HEARTBEAT_TIMEOUT)
TURN_EMBEDDING_CALL = ActivityConfig(**EMBEDDING_CALL, heartbeat_timeout=TURN_HEARTBEAT_TIMEOUT)

# The turn's read and commit steps as local activities (from the turn-steps-local patch on):
# each would otherwise cost a server round trip and a workflow task (20-40 ms a turn here).
# Both are safe to re-run whole (the read only reads; every commit write is idempotent by
# key). A local activity that outlives the workflow task's timeout has the SDK heartbeat the
# task, so a slow embedding provider stalls nothing; retries keep the embedding backoff.
TURN_LOCAL_STEP = LocalActivityConfig(
    start_to_close_timeout=timedelta(seconds=60),
    schedule_to_close_timeout=EMBEDDING_CALL["schedule_to_close_timeout"],
    retry_policy=EMBEDDING_CALL["retry_policy"],
)

# Graph ingestion: graphiti makes several model calls per episode, and the graph database
# may be down for a while. Retry with backoff for up to a day; the reply never waits on it.
GRAPH_INGEST = ActivityConfig(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(days=1),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5)),
)
