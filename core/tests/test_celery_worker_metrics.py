"""The Celery worker's internal metrics listener (core/celery_metrics.py), for real: a worker
process with the prefork pool, CELERY_METRICS_PORT and PROMETHEUS_MULTIPROC_DIR runs a task
in its child process; the listener of its main process serves the child's counts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from config.celery import app
from core.celery_metrics import start_listener

ROOT = Path(__file__).resolve().parents[2]
TASK = "core.tasks.publish_cloudwatch_metrics"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local listener
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_prefork_worker_serves_its_children_s_task_metrics(committed, settings, tmp_path):
    port = _free_port()
    queue = f"test-metrics-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_NAME": settings.TEST_DATABASE_NAME,
        "REDIS_URL": settings.REDIS_URL,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "CELERY_METRICS_PORT": str(port),
        "CELERY_METRICS_ADDR": "127.0.0.1",
        "STOCKROOM_ENVIRONMENT": "test",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config.celery", "worker", "--pool=prefork", "--concurrency=1",
         "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/metrics"
    key = ("stockroom_celery_tasks_total", (("state", "succeeded"), ("task", TASK)))
    try:
        deadline = time.monotonic() + 60
        samples: dict = {}
        while time.monotonic() < deadline:  # the listener starts once the worker is ready
            try:
                samples = _samples(url)
                break
            except OSError:
                assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else ""
                time.sleep(0.3)
        assert samples, "the listener never answered"
        assert samples.get(key, 0) == 0

        app.send_task(TASK, queue=queue)

        while time.monotonic() < deadline and samples.get(key, 0) < 1:
            time.sleep(0.3)
            samples = _samples(url)
        assert samples.get(key) == 1
        assert samples[("stockroom_celery_task_duration_seconds_count", (("state", "succeeded"), ("task", TASK)))] == 1
        assert any(name == "stockroom_celery_queue_depth" for name, _ in samples)  # computed at scrape time
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    # The task's EMF line is on the worker's stdout as a line of its own, not wrapped in a log
    # record by Celery's stdout redirection: what the awslogs driver needs.
    documents = [json.loads(line) for line in output.decode().splitlines() if line.startswith('{"_aws"')]
    assert len(documents) == 1, output.decode()[-2000:]
    assert documents[0]["Environment"] == "test"
    assert documents[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Stockroom"


def test_the_listener_serves_the_text_format_in_this_process(settings):
    server = start_listener(0, "127.0.0.1")
    try:
        samples = _samples(f"http://127.0.0.1:{server.server_address[1]}/metrics")
    finally:
        server.shutdown()
        server.server_close()
    assert any(name.startswith("stockroom_") for name, _ in samples)
