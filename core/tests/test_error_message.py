"""One rule for the top-level ``message`` of the error shape: the first field error,
prefixed by its path; the error's own message when there are no field errors."""

import pytest

pytestmark = pytest.mark.django_db


def test_serializer_field_error_message_names_the_field(api):
    response = api.post("/api/v1/signup/", {"company_name": "Acme", "email": "not-an-email", "password": "x"})

    body = response.json()
    assert response.status_code == 400 and body["code"] == "validation_error"
    first_path, first_errors = next(iter(body["fields"].items()))
    assert body["message"] == f"{first_path}: {first_errors[0]['message']}"


def test_service_field_error_follows_the_same_rule(api, owner_a, tenant_b):
    from tenants.models import Role
    from tenants.tests.factories import PASSWORD, make_member

    make_member(tenant_b, Role.CLERK, user=owner_a.user)

    body = api.post("/api/v1/auth/token/", {"email": owner_a.user.email, "password": PASSWORD}).json()

    assert body["fields"]["tenant"][0]["code"] == "tenant_required"
    assert body["message"] == f"tenant: {body['fields']['tenant'][0]['message']}"


def test_body_level_error_message_has_no_prefix(api):
    response = api.post("/api/v1/auth/token/", ["not", "an", "object"])

    body = response.json()
    assert response.status_code == 400
    assert body["message"] == body["fields"]["non_field_errors"][0]["message"]


def test_error_without_fields_keeps_its_own_message(api):
    body = api.get("/api/v1/auth/me/").json()
    assert body["fields"] == {} and body["message"] == "Authentication credentials were not provided."
