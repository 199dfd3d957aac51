"""API conventions: one error shape, no 500 for any body, probes, request ids, schema."""

import json
import logging
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tenants.tests.factories import PASSWORD
from tenants.tests.harness import discover_operations

ERROR_KEYS = {"code", "message", "fields", "details", "request_id"}
BODY_OPERATIONS = [op for op in discover_operations() if op.method in {"POST", "PUT", "PATCH"}]


def _assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response["X-Request-ID"]
    if code:
        assert body["code"] == code
    return body


@pytest.mark.django_db
def test_malformed_json_is_400_parse_error(api):
    response = api.generic("POST", "/api/v1/auth/token/", '{"email": ', content_type="application/json")
    _assert_error_shape(response, 400, "parse_error")


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[]", "1", '"text"', "null", "true", '{"email": {"$gt": ""}}', "[[[[]]]]"])
def test_wrong_shaped_json_is_a_validation_error(api, body):
    response = api.generic("POST", "/api/v1/signup/", body, content_type="application/json")
    _assert_error_shape(response, 400, "validation_error")


@pytest.mark.django_db
def test_field_errors_use_dotted_paths_with_codes(api):
    body = _assert_error_shape(api.post("/api/v1/signup/", {"email": "not-an-email"}), 400, "validation_error")
    assert body["fields"]["email"] == [{"code": "invalid", "message": "Enter a valid email address."}]
    assert body["fields"]["company_name"][0]["code"] == "required"


@pytest.mark.django_db
def test_nul_characters_and_huge_values_are_400(api):
    nul = api.post("/api/v1/signup/", {"company_name": "A\x00B", "email": "a@b.co", "password": PASSWORD})
    huge = api.post("/api/v1/signup/", {"company_name": "x" * 100_000, "email": "a@b.co", "password": PASSWORD})
    number = api.post("/api/v1/auth/token/", {"email": 10**400, "password": 1e308})
    for response in (nul, huge, number):
        _assert_error_shape(response, 400, "validation_error")


@pytest.mark.django_db
def test_form_encoded_body_is_415(api):
    response = api.post("/api/v1/auth/token/", "email=a", content_type="application/x-www-form-urlencoded")
    _assert_error_shape(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_unknown_route_and_wrong_method_use_the_error_shape(api, client_a):
    _assert_error_shape(api.get("/api/v1/no-such-thing/"), 404, "not_found")
    _assert_error_shape(client_a.put("/api/v1/auth/me/", {}), 405, "method_not_allowed")
    _assert_error_shape(client_a.get("/api/v1/members/not-a-uuid/"), 404, "not_found")
    _assert_error_shape(client_a.get("/api/v1/members/", {"page": 999}), 404, "page_not_found")


@pytest.mark.django_db
def test_bad_filter_value_is_400(client_a):
    body = _assert_error_shape(client_a.get("/api/v1/members/", {"role": "emperor"}), 400, "invalid_parameter")
    assert list(body["fields"]) == ["role"]


@pytest.mark.django_db
def test_throttled_requests_are_429_with_retry_after(api):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["signup"].split("/")[0])
    for _ in range(rate):
        assert api.post("/api/v1/signup/", {}).status_code == 400

    response = api.post("/api/v1/signup/", {})

    body = _assert_error_shape(response, 429, "throttled")
    assert body["details"]["retry_after"] > 0
    assert int(response["Retry-After"]) == body["details"]["retry_after"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12,
)


def _fields_of(op):
    schema = op.request_schema or {}
    while "$ref" in schema:
        schema = op.components[schema["$ref"].rsplit("/", 1)[-1]]
    return sorted(schema.get("properties", {}))


@pytest.mark.django_db
@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=str)
def test_no_request_body_of_any_shape_gives_a_500(operation, client_a, owner_a):
    path = operation.path.replace("{id}", str(owner_a.pk))
    fields = _fields_of(operation)
    bodies = json_values | st.dictionaries(st.sampled_from(fields or ["x"]), json_values, max_size=len(fields) + 1)

    @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=bodies)
    def check(body):
        from django.db import transaction

        with transaction.atomic():
            response = client_a.generic(operation.method, path, json.dumps(body), content_type="application/json")
            assert response.status_code < 500, (body, response.content)
            if response.status_code >= 400:
                assert set(response.json()) == ERROR_KEYS
            transaction.set_rollback(True)

    check()


# --- Probes -----------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_and_readyz(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}


# --- Logs ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_log_lines_are_json_with_request_tenant_and_user_ids(client_a, owner_a, caplog):
    from core.logging import ContextFilter, JsonFormatter

    with caplog.at_level(logging.INFO, logger="stockroom.access"):
        response = client_a.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    record = next(r for r in caplog.records if r.name == "stockroom.access")
    ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-123"
    assert line["tenant_id"] == str(owner_a.tenant_id)
    assert line["user_id"] == str(owner_a.user_id)
    assert line["status"] == 200 and line["path"] == "/api/v1/auth/me/"


def test_unsafe_request_ids_are_replaced(api):
    response = api.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline" and len(response["X-Request-ID"]) == 32


# --- OpenAPI ------------------------------------------------------------------------


def test_committed_openapi_schema_is_current(tmp_path):
    generated = tmp_path / "openapi.yaml"
    subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--fail-on-warn", "--validate", "--file", str(generated)],
        cwd=settings.BASE_DIR,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.base"},
    )
    committed = Path(settings.BASE_DIR, "docs", "openapi.yaml").read_text()
    assert generated.read_text() == committed, "docs/openapi.yaml is stale: run `make openapi` and commit it"


def test_every_operation_documents_the_error_shape():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "Error" in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert "400" in operation["responses"], (method, path)
            ref = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/Error"), (method, path)


# --- Production settings ---------------------------------------------------------------

PRODUCTION_ENV = {
    "PATH": "/usr/bin:/bin",
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k" * 20 + "production-secret-for-the-test-only" + "z" * 20,
    "ALLOWED_HOSTS": "stockroom.example.com",
    "DATABASE_URL": "postgres://app@db.internal:5432/stockroom",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.internal:587",
}


def _production(env_changes, *args):
    env = {k: v for k, v in {**PRODUCTION_ENV, **env_changes}.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )


def test_production_check_deploy_is_clean():
    result = _production({}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be set"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must list"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
        ({"DATABASE_URL": ""}, "DATABASE_URL must be set"),
        ({"EMAIL_URL": None}, "EMAIL_URL must be set"),
    ],
)
def test_production_settings_refuse_unsafe_configuration(change, message):
    result = _production(change, "check")
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
def test_user_rate_limit_is_a_fixed_window_counter(client_a, monkeypatch):
    from core.api.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    statuses = [client_a.get("/api/v1/auth/me/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client_a.get("/api/v1/auth/me/")
    body = _assert_error_shape(response, 429, "throttled")
    assert 0 < body["details"]["retry_after"] <= 60


@pytest.mark.django_db
def test_rate_limit_counter_is_one_redis_key_that_expires(client_a, owner_a):
    from django.core.cache import caches

    from core.api.throttling import _increment

    backend = caches["default"]
    client_a.get("/api/v1/auth/me/")
    client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
    keys = [k for k in client.scan_iter(match="*throttle_user*") if str(owner_a.user_id).encode() in k]

    assert len(keys) == 1
    assert 0 < client.ttl(keys[0]) <= 61  # the window plus one second: never a counter without expiry
    key = f"throttle-test-{uuid.uuid4().hex}"
    assert _increment(key, timeout=5) == 1
    assert _increment(key, timeout=5) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", " application/json ", "application/*", "*/*;q=0.8"]
)
def test_json_for_every_accept_header_that_admits_it(client_a, accept):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = client_a.get("/api/v1/products/", **extra)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["results"] == []


@pytest.mark.django_db
def test_accept_parameters_and_unrenderable_types_go_through_drfs_negotiation(client_a):
    indented = client_a.get("/api/v1/products/", HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 200 and b'\n  "count"' in indented.content
    refused = client_a.get("/api/v1/products/", HTTP_ACCEPT="text/html")
    _assert_error_shape(refused, 406, "not_acceptable")
    by_query = client_a.get("/api/v1/products/?format=xml")
    assert by_query.status_code == 404  # DRF's answer to a format no renderer has


# --- Probes by IP address ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_a_load_balancer_calling_by_ip_address(client, settings, path):
    # An ALB target-group check or a container HEALTHCHECK sends the task's own address as
    # Host, which production's ALLOWED_HOSTS does not list, over plain HTTP.
    settings.ALLOWED_HOSTS = ["stockroom.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(path, HTTP_HOST="10.0.3.17:8000")

    assert response.status_code == 200
    assert response.json()["status"] in {"ok", "degraded"}


@pytest.mark.django_db
def test_other_paths_still_refuse_a_host_not_allowed(client, settings):
    settings.ALLOWED_HOSTS = ["stockroom.example.com"]

    response = client.get("/api/v1/auth/me/", HTTP_HOST="10.0.3.17:8000")

    assert response.status_code == 400


def test_production_middleware_answers_probes_early_and_puts_whitenoise_after_security():
    result = _production(
        {}, "shell", "-v", "0", "-c", "from django.conf import settings; print('\\n'.join(settings.MIDDLEWARE[:5]))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "core.metrics_middleware.RequestMetricsMiddleware",  # outermost: the latency includes the rest
        "core.logging.RequestIdMiddleware",
        "core.health.ProbeMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


def test_static_files_on_a_cdn_are_allowed_by_the_content_security_policy():
    code = (
        "from django.conf import settings; import json; "
        "print(json.dumps([settings.STATIC_URL, settings.CONTENT_SECURITY_POLICY['DIRECTIVES']]))"
    )
    on_cdn = _production({"STATIC_URL": "https://d111.cloudfront.net/static/"}, "shell", "-v", "0", "-c", code)
    on_app = _production({}, "shell", "-v", "0", "-c", code)
    assert on_cdn.returncode == 0 and on_app.returncode == 0, on_cdn.stderr + on_app.stderr

    static_url, directives = json.loads(on_cdn.stdout)
    assert static_url == "https://d111.cloudfront.net/static/"
    for directive in ("script-src", "style-src", "img-src", "font-src"):
        assert directives[directive][:1] == ["'self'"] and "https://d111.cloudfront.net" in directives[directive]
    assert directives["connect-src"] == ["'self'"] and directives["default-src"] == ["'self'"]
    static_url, directives = json.loads(on_app.stdout)
    assert static_url == "/static/"
    assert directives["script-src"] == ["'self'"]
