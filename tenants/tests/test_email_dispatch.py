"""Emails asked for while the Celery broker is down: the request succeeds, the row stays
unsent, and the beat sweep (on the ops alias, across tenants) queues it again once."""

import logging
import threading
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from tenants.context import tenant_context
from tenants.models import EmailVerificationRequest, Invitation, PasswordResetRequest, Role, User
from tenants.tasks import redispatch_pending_emails
from tenants.tests.factories import PASSWORD, client_for, make_member, make_tenant


def _queue_failures(caplog, task):
    return [
        r for r in caplog.records if r.levelno == logging.ERROR and f"could not queue task {task}" in r.getMessage()
    ]


def test_invitation_is_created_while_the_broker_is_down_and_the_sweep_sends_it_once(
    committed, broker_down, caplog, mailoutbox, settings
):
    owner = make_member(make_tenant(slug="invite-broker"), Role.OWNER)

    response = client_for(owner).post("/api/v1/invitations/", {"email": "new@example.com", "role": "clerk"})

    assert response.status_code == 201, response.content
    with tenant_context(owner.tenant):
        invitation = Invitation.objects.get()
    assert invitation.email_sent_at is None and invitation.dispatch_attempts == 1
    assert mailoutbox == []
    assert len(_queue_failures(caplog, "tenants.tasks.send_invitation_email")) == 1

    broker_down.end()
    settings.DISPATCH_GRACE_SECONDS = 0
    redispatch_pending_emails()
    redispatch_pending_emails()  # already sent: nothing more

    assert [m.to for m in mailoutbox] == [["new@example.com"]]
    with tenant_context(owner.tenant):
        invitation.refresh_from_db()
    assert invitation.email_sent_at is not None and invitation.dispatch_attempts == 2


def test_password_reset_is_asked_for_while_the_broker_is_down_and_the_sweep_sends_it_once(
    committed, broker_down, caplog, mailoutbox, settings, api
):
    owner = make_member(make_tenant(slug="reset-broker"), Role.OWNER)

    response = api.post("/api/v1/auth/password-reset/", {"email": owner.user.email})

    assert response.status_code == 202
    request = PasswordResetRequest.objects.get()
    assert request.user_id == owner.user_id and request.sent_at is None
    assert mailoutbox == []
    assert len(_queue_failures(caplog, "tenants.tasks.send_password_reset_email")) == 1

    broker_down.end()
    settings.DISPATCH_GRACE_SECONDS = 0
    redispatch_pending_emails()
    redispatch_pending_emails()

    assert [m.to for m in mailoutbox] == [[owner.user.email]]
    request.refresh_from_db()
    assert request.sent_at is not None and request.dispatch_attempts == 2


def test_emails_within_the_grace_period_or_already_sent_are_left_alone(committed, mailoutbox, settings):
    owner = make_member(make_tenant(slug="invite-grace"), Role.OWNER)
    with tenant_context(owner.tenant):
        fresh = Invitation.objects.create(
            email="fresh@example.com", role=Role.CLERK, expires_at=timezone.now() + timedelta(days=1)
        )
        sent = Invitation.objects.create(
            email="sent@example.com",
            role=Role.CLERK,
            expires_at=timezone.now() + timedelta(days=1),
            dispatched_at=timezone.now() - timedelta(hours=1),
            email_sent_at=timezone.now() - timedelta(hours=1),
        )
    settings.DISPATCH_GRACE_SECONDS = 300

    redispatch_pending_emails()

    assert mailoutbox == []
    with tenant_context(owner.tenant):
        assert [i.dispatch_attempts for i in Invitation.objects.filter(pk__in=[fresh.pk, sent.pk])] == [1, 1]


def test_two_sweeps_at_once_queue_each_pending_email_once(committed, mailoutbox, settings):
    tenants = [make_tenant(slug=f"sweep-{n}") for n in range(2)]
    long_ago = timezone.now() - timedelta(hours=1)
    for tenant in tenants:
        with tenant_context(tenant):
            for n in range(10):
                Invitation.objects.create(
                    email=f"person{n}@{tenant.slug}.example.com",
                    role=Role.VIEWER,
                    expires_at=timezone.now() + timedelta(days=1),
                    dispatched_at=long_ago,
                )
    settings.DISPATCH_GRACE_SECONDS = 300
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def sweep():
        try:
            barrier.wait()
            redispatch_pending_emails()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert len(mailoutbox) == 20
    assert len({tuple(m.to) for m in mailoutbox}) == 20
    for tenant in tenants:
        with tenant_context(tenant):
            assert set(Invitation.objects.values_list("dispatch_attempts", flat=True)) == {2}
            assert not Invitation.objects.filter(email_sent_at__isnull=True).exists()


def test_a_verification_email_asked_for_while_the_broker_is_down_is_sent_once_by_the_sweep(
    committed, broker_down, caplog, mailoutbox, settings, api
):
    response = api.post(
        "/api/v1/signup/", {"company_name": "Broker Down", "email": "bd@example.com", "password": PASSWORD}
    )

    assert response.status_code == 201
    request = EmailVerificationRequest.objects.get()
    assert request.sent_at is None and mailoutbox == []
    assert len(_queue_failures(caplog, "tenants.tasks.send_verification_email")) == 1

    broker_down.end()
    settings.DISPATCH_GRACE_SECONDS = 0
    redispatch_pending_emails()
    redispatch_pending_emails()

    assert [m.to for m in mailoutbox] == [["bd@example.com"]]
    request.refresh_from_db()
    assert request.sent_at is not None and request.dispatch_attempts == 2


def test_the_sweep_skips_an_address_verified_meanwhile(committed, broker_down, mailoutbox, settings, api):
    api.post("/api/v1/signup/", {"company_name": "Broker Down", "email": "bd@example.com", "password": PASSWORD})
    User.objects.filter(email="bd@example.com").update(
        email_verified_at=EmailVerificationRequest.objects.get().created_at
    )

    broker_down.end()
    settings.DISPATCH_GRACE_SECONDS = 0
    redispatch_pending_emails()

    assert mailoutbox == []
