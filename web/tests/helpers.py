"""Test helpers of the web app: a browser-like client signed in through the login page."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tenants.models import Membership
from tenants.tests.factories import PASSWORD


def console_client(membership: Membership) -> Client:
    """A client with a session, signed in as ``membership``'s user by the login form."""
    client = Client()
    response = client.post("/login/", {"email": membership.user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def console_url(membership: Membership, rest: str = "") -> str:
    return f"/app/{membership.tenant.slug}/{rest}"


def page_queries(client: Client, url: str) -> int:
    """The SQL queries of one GET of ``url`` (which must answer 200)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)
