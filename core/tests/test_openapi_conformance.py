"""The OpenAPI schema is faithful: Schemathesis over every operation, as a seeded tenant's owner.

Schema-valid requests are accepted (or refused by a business rule with its own code),
schema-violating ones are refused, every status and body is documented. The same
checks as the full run (docs/api.md: 20 examples per operation against a
server); here a few examples per operation with a fixed seed so the suite stays fast.
"""

import io
import uuid
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, seed
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.config import SchemathesisConfig

from tenants.context import tenant_context
from tenants.models import Membership, Role, Tenant, User
from tenants.tests.factories import PASSWORD
from tenants.tokens import ROLE_CLAIM, TENANT_CLAIM, TOKEN_VERSION_CLAIM

CONFIG = SchemathesisConfig.from_path(Path(settings.BASE_DIR) / "schemathesis.toml")
APP = get_wsgi_application()
# The owner of the seeded workspace; the token is minted before the rows exist (ids fixed) so that
# Schemathesis knows the credentials it sends (a configured header is never mutated into a bad one).
OWNER_ID = uuid.UUID("5c4e3a1b-0000-4000-8000-00000000c0de")
TENANT_ID = uuid.UUID("5c4e3a1b-0000-4000-8000-00000000da7a")

# The committed schema (test_committed_openapi_schema_is_current keeps it equal to the generated one).
schema = schemathesis.openapi.from_path(Path(settings.BASE_DIR) / "docs" / "openapi.yaml", config=CONFIG)
schema.app = APP


def _access_token() -> str:
    token = AccessToken.for_user(User(id=OWNER_ID))
    token[TENANT_CLAIM] = str(TENANT_ID)
    token[ROLE_CLAIM] = Role.OWNER
    token[TOKEN_VERSION_CLAIM] = 0  # a new user's token_version
    return str(token)


AUTHORIZATION = {"Authorization": f"Bearer {_access_token()}"}
schema.config.update(headers=AUTHORIZATION)


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection():
    # Requests run in-process on the test's connection and transaction; like Django's test
    # client, keep the request signals from closing that connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded_owner(db):
    """The demo workspace of seed_demo (catalog, stock, a second workspace), owned by OWNER_ID."""
    tenant = Tenant.objects.create(id=TENANT_ID, slug="demo", name="Demo Company", plan_code="pro")
    owner = User.objects.create_user(
        id=OWNER_ID, email="schema.owner@example.com", password=PASSWORD, email_verified_at=timezone.now()
    )
    with tenant_context(tenant):  # memberships are under Row Level Security
        Membership.objects.create(tenant=tenant, user=owner, role=Role.OWNER)
    call_command("seed_demo", stdout=io.StringIO())


@schema.parametrize()
@seed(20261129)
@hypothesis_settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_every_operation_agrees_with_the_schema(case, seeded_owner):
    # The credentials passed again as the call's own headers: on an operation with a header
    # parameter (Idempotency-Key) Schemathesis also generates the security scheme's header, and
    # its ignored_auth check takes the token for a generated one unless it is explicit here.
    case.call_and_validate(headers=AUTHORIZATION)
