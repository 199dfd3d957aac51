"""Members and invitations: who is in the workspace and with which role, inviting
someone, changing a role, removing a member (or leaving), revoking an invitation.

The roles are the API's (``tenants.api.views``): any member reads the member list and
may leave; admins and owners invite, change roles and remove others, never above their
own role; invitations are for admins and owners only. The services hold those rules
(and the last owner's), so a refusal from them is shown in their words.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound, PermissionDenied
from tenants import selectors, services
from tenants.models import Membership, Role
from web.console import console_view, membership_of
from web.forms import InviteForm, MemberRoleForm, apply_error, bound
from web.pages import error_page

PAGE_SIZE = 25


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


def _member_or_404(membership_id: Any) -> Membership:
    try:
        return selectors.membership_get(id=membership_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _name(membership: Membership) -> str:
    return membership.user.full_name or membership.user.email


def _may_manage(actor: Membership, member: Membership) -> bool:
    """Whether ``actor`` may change ``member``'s role or remove them (the services' rule)."""
    return Role(actor.role).at_least(Role.ADMIN) and Role(member.role).rank <= Role(actor.role).rank


@console_view()
def member_list(request: HttpRequest) -> HttpResponse:
    actor = membership_of(request)
    members = Paginator(selectors.membership_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"membership": m, "manage": _may_manage(actor, m) or m.pk == actor.pk} for m in members]
    invitations = None
    if Role(actor.role).at_least(Role.ADMIN):
        pending = selectors.invitations_pending(selectors.invitation_list(), pending=True).order_by("-created_at")
        invitations = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("invitations_page"))
    return render(
        request,
        "web/console/members.html",
        {"members": members, "rows": rows, "invitations": invitations, "section": "members"},
    )


@console_view(read=Role.ADMIN)
def invitation_create(request: HttpRequest) -> HttpResponse:
    actor = membership_of(request)
    form = InviteForm(bound(request), up_to=actor.role)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(actor=actor, **form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            role = Role(invitation.role).label.lower()
            messages.success(request, f"Invitation sent to {invitation.email} as {role}.")
            return redirect("web:members", slug=_slug(request))
    return render(
        request,
        "web/console/invite.html",
        {"form": form, "section": "members", "verified": actor.user.email_verified_at is not None},
        status=400 if form.errors else 200,
    )


def _member_page(
    request: HttpRequest, member: Membership, form: MemberRoleForm | None, *, remove_error: str = "", status: int = 200
) -> HttpResponse:
    actor = membership_of(request)
    return render(
        request,
        "web/console/member.html",
        {
            "member_row": member,
            "name": _name(member),
            "form": form,
            "is_self": member.pk == actor.pk,
            "may_remove": member.pk == actor.pk or _may_manage(actor, member),
            "remove_error": remove_error,
            "section": "members",
        },
        status=status,
    )


@console_view(write=Role.ADMIN)
def member_detail(request: HttpRequest, membership_id: uuid.UUID) -> HttpResponse:
    """The member, and for an admin or owner who may manage them, the role form (POST)."""
    member = _member_or_404(membership_id)
    actor = membership_of(request)
    may_change = _may_manage(actor, member)
    if request.method == "POST" and not may_change:
        return error_page(request, 403, message="You cannot change the role of someone above you.")
    form = MemberRoleForm(bound(request), up_to=actor.role, initial={"role": member.role}) if may_change else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            changed = services.membership_change_role(
                actor=actor, membership_id=member.pk, role=form.cleaned_data["role"]
            )
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"{_name(changed)} is now {Role(changed.role).label.lower()}.")
            return redirect("web:member", slug=_slug(request), membership_id=member.pk)
    return _member_page(request, member, form, status=400 if form is not None and form.errors else 200)


@console_view()
@require_POST
def member_remove(request: HttpRequest, membership_id: uuid.UUID) -> HttpResponse:
    """An admin or owner removes someone (up to their own role), or anyone leaves."""
    member = _member_or_404(membership_id)
    actor = membership_of(request)
    leaving = member.pk == actor.pk
    try:
        services.membership_remove(actor=actor, membership_id=member.pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        return error_page(request, 403, message=exc.message)
    except DomainError as exc:  # the last owner
        form = MemberRoleForm(up_to=actor.role, initial={"role": member.role}) if _may_manage(actor, member) else None
        return _member_page(request, member, form, remove_error=exc.message, status=exc.status_code)
    workspace = actor.tenant.name
    if leaving:
        messages.success(request, f"You left {workspace}.")
        return redirect("web:workspaces")
    messages.success(request, f"{_name(member)} was removed from {workspace}.")
    return redirect("web:members", slug=_slug(request))


@console_view(read=Role.ADMIN)
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: uuid.UUID) -> HttpResponse:
    try:
        invitation = selectors.invitation_get(id=invitation_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    try:
        services.invitation_revoke(invitation_id=invitation.pk)
    except NotFound as exc:  # revoked meanwhile
        raise Http404(exc.message) from exc
    except DomainError as exc:  # accepted or expired meanwhile
        messages.error(request, f"The invitation to {invitation.email} was not revoked: {exc.message}")
    else:
        messages.success(request, f"The invitation to {invitation.email} is revoked.")
    return redirect("web:members", slug=_slug(request))
