"""/metrics from the real web server: the container's entrypoint runs gunicorn with two
workers and PROMETHEUS_MULTIPROC_DIR, with the production settings; the requests answered by
either worker are counted on a scrape answered by either (prometheus_client's multiprocess
files, merged by core/metrics_http.py)."""

from __future__ import annotations

import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from core.tests.test_container import ENTRYPOINT, _free_port, _production_env, _role_url, _wait_until_up, _workers

TOKEN = "scrape-" + "t" * 40


def _get(port: int, path: str, *, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a fixed http URL
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_gunicorn_workers_are_counted_together(django_db_setup: None, tmp_path: Path) -> None:
    port = _free_port()
    metrics_dir = tmp_path / "prometheus"
    env = _production_env(
        PORT=str(port),
        WEB_CONCURRENCY="2",
        DATABASE_URL=_role_url("default"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        METRICS_TOKEN=TOKEN,
    )
    server = subprocess.Popen([ENTRYPOINT, "web"], env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        _wait_until_up(server, port)
        for _ in range(20):
            assert _get(port, "/healthz", headers={"Host": "10.0.3.17"})[0] == 200
        assert len(_workers(server.pid)) == 2
        # By the task's address, as a scraper in the VPC calls it; over plain HTTP.
        status, body = _get(port, "/metrics", headers={"Host": "10.0.3.17:8000", "Authorization": f"Bearer {TOKEN}"})
        refused, _ = _get(port, "/metrics", headers={"Host": "10.0.3.17:8000", "Authorization": "Bearer nope"})
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        assert server.stderr is not None
        server.stderr.close()
    assert (status, refused) == (200, 403)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }
    key = ("stockroom_http_requests_total", (("method", "GET"), ("route", "healthz"), ("status", "200")))
    # Every request counted, whichever worker answered it and whichever answered the scrape
    # (which worker takes which connection is the kernel's choice, so the test does not
    # require that both served one).
    assert samples[key] == 20
    assert list(metrics_dir.glob("counter_*.db"))  # counted in the multiprocess files
