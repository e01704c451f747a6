# The memory worker. Build from the repository root: docker build -t agent-memory-worker .
# Pinned releases, so a rebuild cannot silently pull a different base or tool.
FROM python:3.12.11-slim-bookworm

COPY --from=ghcr.io/astral-sh/uv:0.8.0 /uv /uvx /usr/local/bin/

WORKDIR /app
# The environment lives outside /app so that copying the sources cannot overwrite it.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH"

# Dependencies first, in their own layer, so source edits do not reinstall them.
# `uv.lock*` lets the build work with or without a lock file.
COPY pyproject.toml uv.lock* ./
RUN if [ -f uv.lock ]; then uv sync --frozen --no-dev --no-install-project; \
    else uv sync --no-dev --no-install-project; fi

COPY . .
RUN if [ -f uv.lock ]; then uv sync --frozen --no-dev; else uv sync --no-dev; fi

# The command tool's scratch directories (TOOL_SCRATCH_ROOT): created here and owned by
# the worker, because a new named volume mounted on them copies that ownership.
RUN useradd --create-home --uid 10001 worker \
    && mkdir -p /var/lib/agent-memory/scratch \
    && chown -R worker /var/lib/agent-memory
# Unprivileged: the command tool's children keep this uid and are boxed by user namespaces
# (memory/tools/command_sandbox.py) when the container runtime allows them; see README, "Security".
USER worker

# 9464: the worker's metrics (METRICS_PORT). 8081: the codec server, when the same image runs it.
EXPOSE 9464 8081
CMD ["python", "worker.py"]
