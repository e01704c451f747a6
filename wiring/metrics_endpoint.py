"""The worker's one Prometheus endpoint: our metrics and the Temporal SDK's in one scrape.

The SDK's metrics come from its Rust core, which can only export them through an HTTP
server of its own. That server is bound to a loopback port nobody scrapes directly;
`/metrics` here appends its text to prometheus_client's default registry, so Prometheus
has one target per worker and an operator one port to open.

    runtime = temporal_runtime(DEFAULT_SDK_METRICS_ADDRESS)   # before any Client.connect
    client = await Client.connect(address, runtime=runtime, ...)
    server = serve_metrics(9464, sdk_metrics_url(DEFAULT_SDK_METRICS_ADDRESS))
    ...
    server.close()
"""

from __future__ import annotations

import logging
import socket
import threading
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import REGISTRY, generate_latest
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

log = logging.getLogger(__name__)

DEFAULT_METRICS_PORT = 9464
# Loopback only: the SDK's text reaches Prometheus through /metrics, never directly.
DEFAULT_SDK_METRICS_ADDRESS = "127.0.0.1:9465"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Well under Prometheus' default scrape timeout (10 s), so a stuck SDK exporter costs the
# scrape its Temporal metrics, not the whole scrape.
SDK_FETCH_TIMEOUT_SECONDS = 2.0


def temporal_runtime(sdk_metrics_address: str) -> Runtime:
    """A Temporal Runtime whose SDK metrics are served at http://<address>/metrics.

    Durations are exported as seconds (`temporal_activity_execution_latency` etc.), like
    our own histograms, so one dashboard unit fits both. Every Client and Worker that
    should be measured must be created on this runtime.
    """
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=sdk_metrics_address, durations_as_seconds=True)
        )
    )


def sdk_metrics_url(sdk_metrics_address: str) -> str:
    return f"http://{sdk_metrics_address}/metrics"


class MetricsServer(ThreadingHTTPServer):
    """Serves /metrics and /healthz from a daemon thread until close()."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sdk_metrics_url: str | None) -> None:
        super().__init__(address, _MetricsHandler)
        self.sdk_metrics_url = sdk_metrics_url
        self._thread = threading.Thread(target=self.serve_forever, name="metrics-endpoint", daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> "MetricsServer":
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join()
        self.server_close()

    def exposition(self) -> bytes:
        ours = generate_latest(REGISTRY)
        if self.sdk_metrics_url is None:
            return ours
        return ours + _sdk_text(self.sdk_metrics_url)


def serve_metrics(port: int, sdk_metrics_url: str | None, *, host: str = "0.0.0.0") -> MetricsServer:
    """Start serving on host:port (0 picks a free port; read it back from `.port`).

    `host` defaults to every interface because in a container Prometheus scrapes from
    another network namespace.
    """
    return MetricsServer((host, port), sdk_metrics_url).start()


def _sdk_text(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=SDK_FETCH_TIMEOUT_SECONDS) as response:
            text = response.read()
    except Exception as err:  # whatever went wrong, our own metrics still go out
        log.warning("Temporal SDK metrics unavailable at %s: %s", url, err)
        reason = " ".join(str(err).split())
        return f"# Temporal SDK metrics unavailable from {url}: {reason}\n".encode()
    if text and not text.endswith(b"\n"):
        text += b"\n"
    return text


class _MetricsHandler(BaseHTTPRequestHandler):
    server: MetricsServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(HTTPStatus.OK, self.server.exposition(), CONTENT_TYPE)
        elif path == "/healthz":
            self._reply(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
        else:
            self._reply(HTTPStatus.NOT_FOUND, b"GET /metrics or /healthz\n", "text/plain; charset=utf-8")

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        # A scrape every 15 s would otherwise fill the worker's stderr.
        log.debug("%s " + format, self.address_string(), *args)


def free_loopback_port() -> int:
    """A port nothing listens on now, for the SDK's exporter (several workers may share a host)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
