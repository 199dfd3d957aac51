"""The pages the emails link to: password reset (request and confirm), accepting an
invitation (a new account, or an existing one) and verifying the address. The same
services as the API, so the tokens, their expiry and the password rules are the same."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from core.api.throttling import scoped_wait
from core.errors import DomainError
from tenants import services as tenant_services
from tenants.models import Role
from web.auth import session_start, session_user
from web.forms import AcceptInvitationForm, NewPasswordForm, PasswordResetRequestForm, apply_error, bound
from web.pages import error_page

RESET_SENT = "If an account exists for that address, we have emailed it a link to choose a new password."


@require_http_methods(["GET", "POST"])
def password_reset_request(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(bound(request))
    if request.method == "POST":
        if scoped_wait(request, "password_reset") is not None:
            return error_page(request, 429)
        if form.is_valid():
            tenant_services.password_reset_request(email=form.cleaned_data["email"])
            messages.info(request, RESET_SENT)
            return redirect("web:login")
    return render(request, "web/public/password_reset.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("token", "")[:500]
    form = NewPasswordForm(bound(request))
    if request.method == "POST" and form.is_valid():
        try:
            tenant_services.password_reset_confirm(token=token, new_password=form.cleaned_data["new_password"])
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, "Your password is changed. Log in with the new one.")
            return redirect("web:login")
    return render(
        request, "web/public/password_new.html", {"form": form, "token": token}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("token", "")[:2000]
    try:
        preview = tenant_services.invitation_preview(token=token)
    except DomainError as exc:
        return error_page(request, 400 if exc.status_code != 403 else 403, message=exc.message)
    if preview.status != "pending":
        return error_page(request, 409, message=f"This invitation is {preview.status.label.lower()}.")
    form = AcceptInvitationForm(bound(request)) if not preview.account_exists else None
    if request.method == "POST" and (form is None or form.is_valid()):
        data = form.cleaned_data if form is not None else {}
        try:
            accepted = tenant_services.invitation_accept(
                token=token, password=data.get("password"), full_name=data.get("full_name", "")
            )
        except DomainError as exc:
            if form is None:
                return error_page(request, 409 if exc.status_code == 409 else 400, message=exc.message)
            apply_error(form, exc)
        else:
            slug = accepted.membership.tenant.slug
            welcome = f"You joined {accepted.membership.tenant.name}."
            current = session_user(request)
            if accepted.user_created:
                session_start(request, accepted.membership.user)
            elif current is None or current.pk != accepted.membership.user_id:
                messages.info(request, f"{welcome} Log in to open it.")
                return redirect(f"{reverse('web:login')}?next=/app/{slug}/")
            messages.success(request, welcome)
            return redirect("web:dashboard", slug=slug)
    return render(
        request,
        "web/public/accept_invitation.html",
        {"preview": preview, "role": Role(preview.role).label, "form": form, "token": token},
        status=400 if form is not None and form.errors else 200,
    )


@require_GET
def verify_email(request: HttpRequest) -> HttpResponse:
    """The emailed link verifies the address when it is opened (no form: the link is the
    proof that the email arrived; opening it again changes nothing)."""
    token = request.GET.get("token", "")[:1000]
    try:
        user = tenant_services.email_verify(token=token)
    except DomainError as exc:
        return error_page(
            request,
            400,
            message=f"{exc.message} Log in to ask for a new one: the button is at the top of every console page.",
        )
    current = session_user(request)
    if current is not None and current.pk == user.pk:
        messages.success(request, f"Thank you: {user.email} is verified.")
        return redirect("web:workspaces")
    messages.success(request, f"Thank you: {user.email} is verified. Log in to continue.")
    return redirect("web:login")
