"""The public site: landing, sign-up, login, logout, the workspace chooser, terms and
privacy. Sign-up and login call the same services as the API (``tenants.services``),
so the lockout, the password rules and the address rules are the same."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from core.api.throttling import scoped_wait
from core.errors import DomainError
from tenants import selectors as tenant_selectors
from tenants import services as tenant_services
from web.auth import client_ip, session_end, session_start, session_user
from web.forms import LoginForm, SignupForm, apply_error, bound
from web.plans import plan_cards


def landing(request: HttpRequest) -> HttpResponse:
    """The landing page; its pricing table is the plan catalogue (tenants.plans)."""
    return render(request, "web/public/landing.html", {"plans": plan_cards(), "user": session_user(request)})


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(bound(request))
    if request.method == "POST" and (wait := scoped_wait(request, "signup")) is not None:
        form.is_valid()
        form.add_error(None, f"Too many sign-ups from this network. Try again in {int(wait) // 60 + 1} minutes.")
        return render(request, "web/public/signup.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = tenant_services.tenant_signup(
                company_name=data["company_name"],
                email=data["email"],
                password=data["password"],
                full_name=data["full_name"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            session_start(request, session.user)
            messages.success(
                request, f"Welcome to Stockroom. Your workspace {session.membership.tenant.name} is ready."
            )
            return redirect("web:dashboard", slug=session.membership.tenant.slug)
    return render(request, "web/public/signup.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    form = LoginForm(bound(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = tenant_services.auth_check_password(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"], ip=client_ip(request)
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            session_start(request, user)
            return redirect(_safe_next(request, reverse("web:workspaces")))
    status = 400 if form.errors else 200
    return render(request, "web/public/login.html", {"form": form, "next": _safe_next(request, "")}, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    session_end(request)
    messages.info(request, "You are logged out.")
    return redirect("web:login")


def workspaces(request: HttpRequest) -> HttpResponse:
    """After login: straight into the only workspace, or a choice of several."""
    user = session_user(request)
    if user is None:
        return redirect(f"{reverse('web:login')}?next={reverse('web:workspaces')}")
    memberships = [m for m in tenant_selectors.user_memberships(user=user) if m.tenant.is_active]
    if len(memberships) == 1:
        return redirect("web:dashboard", slug=memberships[0].tenant.slug)
    return render(request, "web/public/workspaces.html", {"memberships": memberships, "user": user})


def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "web/public/legal.html", {"title": "Terms of service"})


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "web/public/legal.html", {"title": "Privacy policy"})
