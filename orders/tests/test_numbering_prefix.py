"""A refused order-number prefix says which prefixes are allowed."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["sales_prefix", "purchase_prefix"])
def test_bad_prefix_message_names_the_allowed_pattern(client_a, field):
    before = client_a.get("/api/v1/orders/numbering/").json()

    response = client_a.patch("/api/v1/orders/numbering/", {field: "SO 2026!"})

    assert response.status_code == 400
    error = response.json()["fields"][field][0]
    assert error["code"] == "invalid"
    assert "1-12 letters or digits" in error["message"]
    assert response.json()["message"] == f"{field}: {error['message']}"
    assert client_a.get("/api/v1/orders/numbering/").json() == before
