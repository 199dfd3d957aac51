"""The SSRF guard (integrations/ssrf.py) with WEBHOOKS_ALLOW_PRIVATE_TARGETS off: which
addresses and URLs are refused, and that creating or changing an endpoint with one is a
400 with a code that writes nothing."""

from __future__ import annotations

import pytest

from integrations import ssrf
from integrations.models import WebhookEndpoint
from tenants.context import tenant_context
from tenants.models import DomainEvent


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - the address under test
        ("0.1.2.3", "private"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.1.1", "link_local"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("100.100.100.200", "metadata"),
        ("100.64.0.1", "shared"),
        ("100.127.255.254", "shared"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("192.0.2.10", "private"),  # documentation range
        ("198.18.0.1", "private"),  # benchmarking range
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link_local"),
        ("fe80::1%1", "link_local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fd00:ec2::254", "metadata"),
        ("fec0::1", "private"),  # deprecated site-local
        ("ff02::1", "multicast"),
        ("2001:db8::1", "private"),  # documentation range
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.1.2.3", "private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::127.0.0.1", "loopback"),  # IPv4-compatible
        ("::10.0.0.1", "private"),
        ("::ffff:0:127.0.0.1", "loopback"),  # IPv4-translated
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", "metadata"),  # 6to4 of 169.254.169.254
        ("2002:c0a8:0101::1", "private"),  # 6to4 of 192.168.1.1
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::a00:1", "tunnel"),  # local-use NAT64
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "tunnel"),  # Teredo
    ],
)
def test_internal_addresses_are_refused_with_their_reason(address, reason):
    assert ssrf.address_refusal(address) == reason


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8"],
)
def test_public_addresses_pass(address):
    assert ssrf.address_refusal(address) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:6379/", "scheme"),
        ("//hooks.example.com/", "scheme"),
        ("https://user:pass@hooks.example.com/", "userinfo"),
        ("https://user@hooks.example.com/", "userinfo"),
        ("https://hooks.example.com@127.0.0.1/", "userinfo"),
        ("https:///path-only", "host"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://hooks.example.com:0/", "port"),
        ("http://127.0.0.1:8000/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://localhost/", "loopback"),  # resolved: a name of a loopback address
        ("http://2130706433/", "loopback"),  # 127.0.0.1 as one number, resolved the same
        ("http://0x7f.1/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://100.64.1.1/", "shared"),
        ("http://no-such-host.invalid/", "unresolvable"),
    ],
)
def test_urls_to_internal_or_odd_targets_are_refused(url, reason):
    with pytest.raises(ssrf.TargetRefused) as refused:
        ssrf.resolve_target(url, allow_private=False)
    assert refused.value.reason == reason


def test_a_public_address_target_keeps_the_name_for_host_and_tls():
    target = ssrf.resolve_target("https://8.8.8.8:8443/in?x=1", allow_private=False)
    assert (target.scheme, target.address, target.port, target.path) == ("https", "8.8.8.8", 8443, "/in?x=1")
    assert target.host_header == "8.8.8.8:8443"


def test_allowing_private_targets_skips_the_address_checks_not_the_url_checks():
    assert ssrf.resolve_target("http://127.0.0.1:9/x", allow_private=True).address == "127.0.0.1"
    with pytest.raises(ssrf.TargetRefused):
        ssrf.resolve_target("ftp://127.0.0.1/", allow_private=True)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/", "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/"]
)
def test_cloud_metadata_is_refused_even_when_private_targets_are_allowed(url):
    """Found trying the product with WEBHOOKS_ALLOW_PRIVATE_TARGETS=1: no local use needs it."""
    with pytest.raises(ssrf.TargetRefused) as refused:
        ssrf.resolve_target(url, allow_private=True)
    assert refused.value.reason == "metadata"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://localhost:8000/", "loopback"),
        ("ftp://hooks.example.com/", "scheme"),
    ],
)
def test_creating_an_endpoint_for_an_internal_url_is_a_400_that_writes_nothing(
    client_a, tenant_a, settings, url, reason
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = client_a.post("/api/v1/webhook-endpoints/", {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] in ("webhook_url_refused", "validation_error")
    assert "url" in body["fields"]
    if body["code"] == "webhook_url_refused":
        assert body["details"]["reason"] == reason
    with tenant_context(tenant_a):
        assert not WebhookEndpoint.objects.exists()
        assert not DomainEvent.objects.filter(type="webhook_endpoint.created").exists()


@pytest.mark.django_db
def test_changing_an_endpoint_to_an_internal_url_is_a_400_that_changes_nothing(client_a, tenant_a, settings):
    from integrations.tests.factories import make_webhook_endpoint

    with tenant_context(tenant_a):
        endpoint = make_webhook_endpoint(url="https://8.8.8.8/hook")
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = client_a.patch(
        f"/api/v1/webhook-endpoints/{endpoint.id}/", {"url": "http://10.1.2.3/hook"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_url_refused"
    assert response.json()["details"] == {"reason": "private"}
    with tenant_context(tenant_a):
        endpoint.refresh_from_db()
    assert endpoint.url == "https://8.8.8.8/hook"
