"""The console's home page and the workspace switcher."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from orders import selectors as order_selectors
from web.console import console_view


def _bars(by_day: list[dict[str, Any]], date_from: Any, days: int = 30) -> dict[str, Any]:
    """Sales per day as SVG bar geometry, every day present (zero when no sales)."""
    totals = {row["date"]: row["total"] for row in by_day}
    series = [
        (date_from + timedelta(days=i), totals.get(date_from + timedelta(days=i), Decimal(0))) for i in range(days)
    ]
    peak = max((total for _, total in series), default=Decimal(0)) or Decimal(1)
    width, height, gap = 600, 160, 4
    bar = width / days
    bars = []
    for i, (day, total) in enumerate(series):
        h = float(total / peak) * (height - 10)
        bars.append(
            {
                "x": round(i * bar + gap / 2, 1),
                "y": round(height - h, 1),
                "w": round(bar - gap, 1),
                "h": round(h, 1),
                "day": day,
                "total": total,
            }
        )
    return {"bars": bars, "peak": peak, "width": width, "height": height, "series": series}


@console_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = order_selectors.dashboard()
    sales = summary["sales"]
    chart = _bars(sales["by_day"], sales["date_from"])
    steps = summary["getting_started"]
    return render(
        request,
        "web/console/dashboard.html",
        {
            "summary": summary,
            "chart": chart,
            "steps": steps,
            "show_steps": not all(steps.values()),
            "section": "dashboard",
        },
    )
