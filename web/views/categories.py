"""Categories: the tree (indented by depth, with product counts), create, edit (rename,
move under another parent: the service refuses cycles and trees too deep) and delete
(refused while the category has subcategories)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from inventory import selectors
from inventory.models import Category
from inventory.services import catalog
from tenants.models import Role
from web.console import console_view
from web.forms import CategoryForm, apply_error, bound

PAGE_SIZE = 25


def _category_or_404(category_id: Any) -> Category:
    try:
        category: Category = selectors.get_or_404(selectors.category_list(), id=category_id, what="category")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return category


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


@console_view()
def category_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.category_tree(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/console/categories.html", {"page": page, "section": "categories"})


def _form_page(
    request: HttpRequest, form: CategoryForm, *, category: Category | None, refusal: str = "", status: int = 200
) -> HttpResponse:
    slug = _slug(request)
    title = f"Edit {category.name}" if category else "New category"
    context = {
        "form": form,
        "title": title,
        "section": "categories",
        "crumbs": [("Categories", reverse("web:categories", kwargs={"slug": slug}))],
        "cancel_url": reverse("web:categories", kwargs={"slug": slug}),
        "refusal": refusal,
    }
    if category is not None:
        context["delete_url"] = reverse("web:category-delete", kwargs={"slug": slug, "category_id": category.id})
        context["delete_label"] = "Delete category"
        context["delete_confirm"] = f"Delete the category {category.name}? Its products keep no category."
    if status == 200 and form.errors:
        status = 400
    return render(request, "web/console/edit_form.html", context, status=status)


@console_view(read=Role.MANAGER)
def category_create(request: HttpRequest) -> HttpResponse:
    categories = selectors.category_choices()
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else None
    form = CategoryForm(bound(request), initial=initial, categories=categories)
    if request.method == "POST" and form.is_valid():
        try:
            category = catalog.category_create(**form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Category {category.name} created.")
            return redirect("web:categories", slug=_slug(request))
    return _form_page(request, form, category=None)


@console_view(read=Role.MANAGER)
def category_edit(request: HttpRequest, category_id: uuid.UUID) -> HttpResponse:
    category = _category_or_404(category_id)
    categories = selectors.category_choices()
    initial = {"name": category.name, "parent": category.parent_id, "description": category.description}
    form = CategoryForm(bound(request), initial=initial, categories=categories)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.category_update(category=category, **form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Category {form.cleaned_data['name']} saved.")
            return redirect("web:categories", slug=_slug(request))
    return _form_page(request, form, category=category)


@console_view(read=Role.MANAGER)
@require_POST
def category_delete(request: HttpRequest, category_id: uuid.UUID) -> HttpResponse:
    category = _category_or_404(category_id)
    try:
        catalog.category_delete(category=category)
    except DomainError as exc:
        initial = {"name": category.name, "parent": category.parent_id, "description": category.description}
        form = CategoryForm(initial=initial, categories=selectors.category_choices())
        refusal = f"{category.name} was not deleted: {exc.message}"
        return _form_page(request, form, category=category, refusal=refusal, status=409)
    messages.success(request, f"Category {category.name} deleted.")
    return redirect("web:categories", slug=_slug(request))
