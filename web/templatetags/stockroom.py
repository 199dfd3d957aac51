"""Numbers, money and dates as the console shows them (shared/web.md, "Numbers, dates,
money"): quantities with their unit and no trailing zeros, money with the workspace's
currency and thousands separators, dates as "29 Nov 2026"."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


def _plain(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number


@register.filter
def qty(value: Any, unit: str = "") -> str:
    """``12 pcs``, ``2.5 kg``, ``1,250 pcs``."""
    number = _plain(value)
    if number is None:
        return ""
    text = f"{number.normalize():,f}"
    return f"{text} {unit}".strip()


@register.filter
def money(value: Any, currency: str = "") -> str:
    """``USD 1,234.50``: two decimals, thousands separators, the currency code."""
    number = _plain(value)
    if number is None:
        return ""
    return f"{currency} {number.quantize(Decimal('0.01')):,}".strip()


@register.filter
def day(value: Any) -> str:
    """``29 Nov 2026``."""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{value.day} {value:%b %Y}"
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return ""


@register.filter
def moment(value: Any) -> str:
    """``29 Nov 2026, 14:05`` with the ISO time and zone on hover."""
    if not isinstance(value, datetime):
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" title="{}">{} {}, {}</time>',
        value.isoformat(),
        f"{local:%Y-%m-%d %H:%M %Z}",
        local.day,
        f"{local:%b %Y}",
        f"{local:%H:%M}",
    )


STATUS_COLOURS = {
    "draft": "secondary",
    "confirmed": "blue",
    "ordered": "blue",
    "partially_fulfilled": "yellow",
    "partially_received": "yellow",
    "fulfilled": "green",
    "received": "green",
    "cancelled": "red",
    "returned": "purple",
    "active": "green",
    "inactive": "secondary",
    "receipt": "green",
    "issue": "orange",
    "adjustment": "yellow",
    "transfer_out": "azure",
    "transfer_in": "azure",
    "reservation": "secondary",
    "release": "secondary",
    # Import and export jobs.
    "pending": "secondary",
    "running": "blue",
    "succeeded": "green",
    "failed": "red",
}


@register.simple_tag
def badge(status: str, label: str = "") -> str:
    """A coloured badge that also says the status in words (never colour alone)."""
    colour = STATUS_COLOURS.get(status, "secondary")
    text = label or status.replace("_", " ").capitalize()
    return format_html('<span class="badge bg-{}-lt">{}</span>', colour, text)


@register.simple_tag(takes_context=True)
def query(context: Any, **changes: Any) -> str:
    """The current query string with ``changes`` (None removes a key): links for sorting
    and pages that keep the search and the filters."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded: str = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context: Any, key: str, label: str, target: str = "") -> str:
    """A column header that sorts by ``key`` (again: the other way), keeping the search
    and the filters, back to page 1; with ``target``, HTMX swaps only that element."""
    current = context["request"].GET.get("sort", "")
    new = f"-{key}" if current == key else key
    href = query(context, sort=new, page=None)
    state = "asc" if current == key else "desc" if current == f"-{key}" else ""
    said = {"asc": " (sorted ascending)", "desc": " (sorted descending)"}.get(state, "")
    if target:
        return format_html(
            '<a href="{0}" class="table-sort {1}" hx-get="{0}" hx-target="{2}" hx-swap="outerHTML" '
            'hx-push-url="true">{3}<span class="visually-hidden">{4}</span></a>',
            href,
            state,
            target,
            label,
            said,
        )
    return format_html(
        '<a href="{}" class="table-sort {}">{}<span class="visually-hidden">{}</span></a>', href, state, label, said
    )
