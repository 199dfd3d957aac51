"""The signed-in user's own account: the name, the password, and a new email to verify
the address. Every member has one, whatever the role."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.api.throttling import scoped_wait
from core.errors import DomainError
from tenants import services as tenant_services
from web.auth import session_start
from web.console import console_view, membership_of
from web.forms import PasswordChangeForm, ProfileForm, apply_error


def _page(
    request: HttpRequest,
    *,
    profile_form: ProfileForm | None = None,
    password_form: PasswordChangeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = membership_of(request).user
    return render(
        request,
        "web/console/profile.html",
        {
            "profile_form": profile_form or ProfileForm(initial={"full_name": user.full_name}),
            "password_form": password_form or PasswordChangeForm(),
            "section": "profile",
        },
        status=status,
    )


def _minutes(wait: float) -> int:
    return int(wait) // 60 + 1


@console_view()
def profile(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    form = ProfileForm(request.POST)
    if form.is_valid():
        tenant_services.user_update(user=membership_of(request).user, full_name=form.cleaned_data["full_name"])
        messages.success(request, "Your name is saved.")
        return redirect("web:profile", slug=membership_of(request).tenant.slug)
    return _page(request, profile_form=form, status=400)


@console_view()
@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    """The API's password change (same rules, same rate): every session and token of the
    account ends; this browser's session starts again at once, so it stays signed in."""
    form = PasswordChangeForm(request.POST)
    if (wait := scoped_wait(request, "password_change", user_id=membership_of(request).user_id)) is not None:
        form.is_valid()
        form.add_error(None, f"Too many password changes. Try again in {_minutes(wait)} minutes.")
        return _page(request, password_form=form, status=429)
    if form.is_valid():
        try:
            session = tenant_services.password_change(membership=membership_of(request), **form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            session_start(request, session.user)
            messages.success(request, "Your password is changed. Your other sessions were logged out.")
            return redirect("web:profile", slug=session.membership.tenant.slug)
    return _page(request, password_form=form, status=400)


@console_view()
@require_POST
def email_verification_send(request: HttpRequest) -> HttpResponse:
    """The banner's "Resend": a new link to verify the address, then back to the page."""
    membership = membership_of(request)
    back = request.POST.get("next", "")
    if not (
        back.startswith(f"/app/{membership.tenant.slug}/")
        and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure())
    ):
        back = reverse("web:profile", kwargs={"slug": membership.tenant.slug})
    if (wait := scoped_wait(request, "email_verification", user_id=membership.user_id)) is not None:
        messages.warning(request, f"We sent several links already. Try again in {_minutes(wait)} minutes.")
        return redirect(back)
    try:
        tenant_services.email_verification_request(user=membership.user)
    except DomainError as exc:  # verified meanwhile
        messages.info(request, exc.message)
    else:
        messages.success(request, f"We sent a new link to {membership.user.email}. Open it to verify your address.")
    return redirect(back)
