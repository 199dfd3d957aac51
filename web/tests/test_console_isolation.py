"""Every console page and action, found by walking the URLconf (not a hand-written
list): a member of workspace B gets 404 on each of workspace A's pages and on A's
objects under B's own address, an anonymous visitor is sent to the login page, and
nothing of A's changes or shows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tenants.tests.harness import Seeded, seed_pair, snapshot
from web.tests.helpers import console_client

CONSOLE = "app/<slug:slug>/"


def console_routes() -> list[str]:
    """The route of every console view, e.g. ``products/<uuid:product_id>/receive/``."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith(CONSOLE):
                found.append(route[len(CONSOLE) :])

    walk(get_resolver().url_patterns, "")
    return found


ROUTES = console_routes()


def _fill(route: str, seeded: Seeded) -> str:
    """The route with ``seeded``'s objects: ``<uuid:product_id>`` -> one of its products."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1).removesuffix("_id")
        ids = seeded.ids_of(name.replace("_", ""))
        assert ids, f"the harness seeds no {name} for {route}"
        return ids[0]

    return re.sub(r"<(?:\w+:)?(\w+)>", one, route)


def test_the_walk_finds_the_console():
    assert "" in ROUTES and "products/" in ROUTES
    assert any("<uuid:" in route for route in ROUTES)


# A body that would pass most forms, so a refusal is the isolation's, not a form error's.
BODY = {"quantity": "1", "sku": "X", "code": "X", "name": "X", "unit": "pcs", "mode": "delta", "reason": "count"}


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES)
def test_a_member_of_b_cannot_reach_as_pages(route):
    a, b = seed_pair()
    client = console_client(b.owner)
    before = snapshot(a)
    own = client.get(f"/app/{b.tenant.slug}/{_fill(route, b)}")
    # 405: an action that only takes POST (confirm, cancel, ...).
    assert own.status_code in (200, 302, 405), f"B's own {route} gave {own.status_code}"
    foreign = [f"/app/{a.tenant.slug}/{_fill(route, a)}"]  # A's address
    if "<" in route:
        foreign.append(f"/app/{b.tenant.slug}/{_fill(route, a)}")  # A's objects under B's address
    for path in foreign:
        for method in ("get", "post"):
            response = getattr(client, method)(path, BODY)
            if response.status_code == 405 and method == "get":
                continue  # a POST-only action: the POST below is the check
            assert response.status_code == 404, f"{method.upper()} {path} gave {response.status_code} to B"
            text = response.content.decode(errors="replace")
            assert not {i for i in a.ids if i in text}, f"{path} shows A's ids"
    assert snapshot(a) == before


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_visitors_are_sent_to_log_in(route):
    from django.test import Client

    a, _ = seed_pair()
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/app/{a.tenant.slug}/{_fill(route, a)}")
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
