"""The benchmark-only floor views (bench/floor/, BENCH_FLOOR_VIEWS): off by default, and
production settings refuse them on any host that is not loopback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

REPO = Path(__file__).resolve().parents[2]


def _production(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_", "BENCH_"))}
    base.update(
        {
            "SECRET_KEY": "k" * 60,
            "DATABASE_URL": "postgres://app:pw@127.0.0.1:5432/stockroom",
            "SECURE_SSL_REDIRECT": "0",
            "EMAIL_URL": "consolemail://",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.production"],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        check=False,
    )


def test_floor_views_are_not_routed_by_default() -> None:
    for path in ("/bench/floor/products/", "/bench/reference/products/", "/bench/floor/stock/issue/"):
        with pytest.raises(Resolver404):
            resolve(path)


def test_production_refuses_floor_views_on_a_public_host() -> None:
    done = _production(BENCH_FLOOR_VIEWS="1", ALLOWED_HOSTS="stockroom.example.com,127.0.0.1")
    assert done.returncode != 0
    assert "ImproperlyConfigured: BENCH_FLOOR_VIEWS is for bench/run only" in done.stderr


def test_production_allows_floor_views_on_loopback_only_and_starts_without_them() -> None:
    assert _production(BENCH_FLOOR_VIEWS="1", ALLOWED_HOSTS="127.0.0.1,localhost").returncode == 0
    assert _production(ALLOWED_HOSTS="stockroom.example.com").returncode == 0
