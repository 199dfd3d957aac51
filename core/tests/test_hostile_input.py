"""Hostile request bodies: deep nesting, lone surrogates, oversized bodies, odd encodings.

Each is a 4xx in the error shape, on authenticated and unauthenticated operations
alike, and writes nothing.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from core.api.parsers import MAX_JSON_DEPTH
from inventory.models import Product
from tenants.models import Tenant
from tenants.tests.factories import PASSWORD

ERROR_KEYS = {"code", "message", "fields", "details", "request_id"}
SIGNUP = {"company_name": "Hostile Co", "email": "new@hostile.example", "password": PASSWORD}


def _error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == code, body
    return body


def _post(client, path, raw):
    return client.generic("POST", path, raw, content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/signup/", "/api/v1/invitations/accept/"])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5000, 100_000])
def test_post_deeply_nested_json_is_400_parse_error(api, path, depth):
    body = _error(_post(api, path, "[" * depth + "]" * depth), 400, "parse_error")
    assert "nested" in body["message"]


@pytest.mark.django_db
def test_post_nested_json_within_the_limit_is_read(client_a):
    nested: dict = {}
    for _ in range(MAX_JSON_DEPTH - 2):
        nested = {"a": nested}
    response = client_a.post("/api/v1/products/", {"sku": "DEEP-1", "name": "Deep", "attributes": nested})
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_post_deeply_nested_json_on_an_authenticated_operation_writes_nothing(client_a, in_a):
    attributes = "{" + '"a": {' * 200 + "}" * 200 + "}"
    raw = f'{{"sku": "DEEP-2", "name": "Deep", "attributes": {attributes}}}'
    _error(_post(client_a, "/api/v1/products/", raw), 400, "parse_error")
    assert not Product.objects.filter(sku="DEEP-2").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/v1/auth/token/", '{"email": "a@b.co", "password": "x", "tenant": "\\ud800"}'),
        ("/api/v1/signup/", '{"company_name": "A", "email": "a@b.co", "password": "\\udfff-long-password"}'),
        ("/api/v1/auth/token/refresh/", '{"refresh": "\\uDBFF"}'),
        ("/api/v1/invitations/accept/", '{"token": "\\ud800\\ud800"}'),
        ("/api/v1/auth/token/", '{"\\ud800": 1}'),
    ],
)
def test_post_lone_surrogate_unauthenticated_is_400_parse_error(api, path, raw):
    body = _error(_post(api, path, raw), 400, "parse_error")
    assert "surrogate" in body["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "raw"),
    [
        # a choice field (its error message would echo the value), a reference, a uuid
        ("/api/v1/products/", '{"sku": "S-1", "name": "n", "unit": "\\ud800"}'),
        ("/api/v1/products/", '{"sku": "S-1", "name": "n", "category": "\\ud800"}'),
        ("/api/v1/stock/receive/", '{"product": "\\ud800", "warehouse": "\\udc00", "quantity": "1"}'),
        ("/api/v1/sales-orders/", '{"customer": "\\ud800", "lines": [{"product": "\\ud800"}]}'),
        ("/api/v1/invitations/", '{"email": "x@y.co", "role": "\\ud800"}'),
    ],
)
def test_post_lone_surrogate_in_choice_uuid_and_reference_fields_is_400(client_a, in_a, path, raw):
    _error(_post(client_a, path, raw), 400, "parse_error")
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_post_surrogate_pair_is_a_character_and_accepted(client_a, in_a):
    response = _post(client_a, "/api/v1/products/", '{"sku": "EMOJI-1", "name": "Box \\ud83d\\udce6"}')
    assert response.status_code == 201, response.content
    assert Product.objects.get(sku="EMOJI-1").name == "Box \U0001f4e6"


@pytest.mark.django_db
def test_post_body_that_is_not_utf8_is_400_parse_error(api):
    response = api.generic("POST", "/api/v1/auth/token/", b'{"email": "\xed\xa0\x80"}', content_type="application/json")
    _error(response, 400, "parse_error")


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/signup/"])
def test_post_json_body_over_the_limit_is_413_request_too_large(api, path):
    raw = json.dumps({**SIGNUP, "company_name": "x" * 2000})
    _error(_post(api, path, raw), 413, "request_too_large")
    assert not Tenant.objects.filter(name__startswith="xxx").exists()


@pytest.mark.django_db
def test_post_json_body_over_the_default_limit_is_413(api):
    raw = json.dumps({"email": "a" * 3_000_000, "password": "x"})
    _error(_post(api, "/api/v1/auth/token/", raw), 413, "request_too_large")


@pytest.mark.django_db
@override_settings(IMPORT_MAX_BYTES=1000, DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_upload_over_the_limit_is_413_request_too_large(client_a, in_a):
    upload = SimpleUploadedFile("big.csv", b"sku,name\n" + b"A,B\n" * 2000, content_type="text/csv")
    response = client_a.post("/api/v1/imports/", {"file": upload}, format="multipart")
    _error(response, 413, "request_too_large")
    assert client_a.get("/api/v1/imports/").json()["count"] == 0


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=5)
def test_upload_with_too_many_form_fields_is_413(client_a, in_a):
    data: dict[str, object] = {f"field{i}": "x" for i in range(10)}
    data["file"] = SimpleUploadedFile("a.csv", b"sku,name\nA,B\n", content_type="text/csv")
    _error(client_a.post("/api/v1/imports/", data, format="multipart"), 413, "request_too_large")


@pytest.mark.django_db
def test_upload_with_invalid_utf8_in_names_is_not_a_500(client_a, in_a):
    boundary = "BoUnDaRy"
    raw = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="\xed\xa0\x80.csv"\r\n'
        + b"Content-Type: text/csv\r\n\r\nsku,name\r\nA,B\r\n"
        + f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="skip_invalid_rows\xed\xa0\x80"\r\n\r\n\xed\xa0\x80\r\n'
        + f"--{boundary}--\r\n".encode()
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    response = client_a.generic("POST", "/api/v1/imports/", raw, content_type=content_type)
    assert response.status_code < 500, response.content
    json.dumps(response.json(), ensure_ascii=False).encode()  # renders as valid UTF-8


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["search=%ED%A0%80", "search=%ff%fe", "sku=%ED%A0%80", "ordering=%ED%A0%80"])
def test_get_with_invalid_utf8_in_the_query_string_is_not_a_500(client_a, query):
    response = client_a.get(f"/api/v1/products/?{query}")
    assert response.status_code in {200, 400}, response.content
    response.content.decode("utf-8")


@pytest.mark.django_db
def test_get_with_invalid_utf8_in_headers_is_not_a_500(api, client_a):
    # WSGI hands headers over as latin-1 text: raw UTF-8 bytes of a surrogate arrive as three characters.
    surrogate_bytes = "\xed\xa0\x80"
    assert api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {surrogate_bytes}").status_code == 401
    response = client_a.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID=surrogate_bytes, HTTP_ACCEPT_LANGUAGE=surrogate_bytes)
    assert response.status_code == 200
    assert response["X-Request-ID"] != surrogate_bytes
