"""The operations admin: Django's admin for platform staff only (``User.is_staff``), at
``/ops/admin/``, read-only, reading through the operations database alias (``ops``) when
it is configured (billing/admin.py). Platform staff sign in through the console's login
(its lockout and password rules): the site reads the console's session (``web.auth``)
rather than Django's own auth session, and has no login form of its own."""

from __future__ import annotations

from functools import update_wrapper
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from billing import admin as billing_admin
from web.auth import session_user


class OpsAdminSite(admin.AdminSite):
    site_header = "Stockroom operations"
    site_title = "Stockroom operations"
    index_title = "Billing"
    site_url = "/"

    def _attach_user(self, request: HttpRequest) -> Any:
        """``request.user`` from the console's session (no AuthenticationMiddleware here)."""
        user = getattr(request, "ops_user", None)
        if user is None:
            user = session_user(request) or AnonymousUser()
            request.ops_user = user  # type: ignore[attr-defined]
            request.user = user
        return user

    def has_permission(self, request: HttpRequest) -> bool:
        user = self._attach_user(request)
        return bool(user.is_active and getattr(user, "is_staff", False))

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        # What the auth context processor would give the admin's templates.
        return {**super().each_context(request), "user": self._attach_user(request)}

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def attached(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            self._attach_user(request)
            return inner(request, *args, **kwargs)

        return update_wrapper(attached, view)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """No login form here: the console's, back to the admin afterwards."""
        target = request.GET.get("next") or reverse("ops_admin:index")
        return HttpResponseRedirect(f"{reverse('web:login')}?{urlencode({'next': target})}")

    def logout(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:  # type: ignore[override]
        return HttpResponseRedirect(reverse("web:login"))


ops_site = OpsAdminSite(name="ops_admin")
billing_admin.register(ops_site)
