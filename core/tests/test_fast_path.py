"""The read fast path renders exactly what the serializers render.

Every viewset that answers ``list`` or ``retrieve`` through ``core.api.rows`` is found
in the URLconf. For each, hypothesis generates rows of its model (every column drawn
from what the column can hold: unicode text with line separators, decimals up to the
column's size, null where allowed, nested JSON, related rows picked from a seeded pool)
plus, for nested lists (an order's lines and history), child rows. The fast path's
output for a row is then compared, field by field, with the serializer's output for the
instance the selector returns, and the bytes of the two renderers are compared too.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, models, transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import renderers
from rest_framework.permissions import BasePermission
from rest_framework.test import APIRequestFactory

from core.api import compiled
from core.api.fast import RowListMixin, RowRetrieveMixin
from core.api.renderers import JSONRenderer
from core.api.rows import RowFormat, row_format
from core.sql import CompiledPage, compile_count_and_page, count_and_page
from inventory.api.views import ProductViewSet
from inventory.tests.factories import cross_tenant_seed as inventory_seed
from inventory.tests.factories import make_product, make_warehouse
from orders.tests.factories import cross_tenant_seed as orders_seed
from tenants.context import get_current_tenant

HOT_RESOURCES = {
    "ProductViewSet",
    "StockLevelViewSet",
    "StockMovementViewSet",
    "SalesOrderViewSet",
    "PurchaseOrderViewSet",
    "CustomerViewSet",
    "SupplierViewSet",
}


def _fast_viewsets() -> list[type[Any]]:
    found: dict[str, type[Any]] = {}

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                cls = getattr(pattern.callback, "cls", None)
                if cls is not None and issubclass(cls, (RowListMixin, RowRetrieveMixin)):
                    found[cls.__name__] = cls

    walk(get_resolver().url_patterns)
    return [found[name] for name in sorted(found)]


FAST_VIEWSETS = _fast_viewsets()
FAST_ACTIONS = [
    (cls, action)
    for cls in FAST_VIEWSETS
    for action, mixin in (("list", RowListMixin), ("retrieve", RowRetrieveMixin))
    if issubclass(cls, mixin)
]


def _view(cls: type[Any], action: str) -> Any:
    view = cls()
    view.action = action
    view.request = None
    view.format_kwarg = None
    view.kwargs = {}
    return view


def test_the_hot_resources_use_the_fast_path() -> None:
    assert {cls.__name__ for cls in FAST_VIEWSETS} >= HOT_RESOURCES


@pytest.mark.parametrize("cls", FAST_VIEWSETS, ids=lambda cls: cls.__name__)
def test_fast_path_views_check_no_object_permission(cls: type[Any]) -> None:
    """``retrieve`` reads no instance, so no permission may need one."""
    for permission in _view(cls, "retrieve").get_permissions():
        assert type(permission).has_object_permission is BasePermission.has_object_permission


# --- Generated rows -----------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40).map(
    lambda text: text + ("\u2028" if len(text) % 5 == 1 else "")
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
# hypothesis takes naive bounds and attaches the time zone to the values it draws
MOMENTS = st.datetimes(
    min_value=dt.datetime(1990, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(dt.UTC),
)


def _decimals(field: models.DecimalField[Any, Any], *, signed: bool) -> st.SearchStrategy[Decimal]:
    largest = Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(1).scaleb(-field.decimal_places)
    places = field.decimal_places
    full = st.decimals(min_value=-largest if signed else 0, max_value=largest, places=places, allow_nan=False)
    # Mostly small, whole values: rows whose columns must agree (shipped <= ordered, totals) get through.
    small = st.integers(1, 20).map(Decimal) | st.decimals(min_value=0, max_value=100, places=places)
    return (small | full).map(lambda value: value or Decimal(1))  # some columns refuse zero (a movement's quantity)


def _column(field: models.Field[Any, Any], pools: dict[type[models.Model], list[Any]]) -> st.SearchStrategy[Any]:
    if field.choices:
        strategy: st.SearchStrategy[Any] = st.sampled_from([value for value, _label in field.choices])
    elif isinstance(field, models.ForeignKey):
        strategy = st.sampled_from(pools.get(field.related_model, [None]))
    elif isinstance(field, models.DecimalField):
        strategy = _decimals(field, signed=field.name in ("quantity",))
    elif isinstance(field, (models.PositiveIntegerField, models.PositiveBigIntegerField)):
        strategy = st.integers(0, 2**31 - 1)
    elif isinstance(field, models.IntegerField):
        strategy = st.integers(-(2**31), 2**31 - 1)
    elif isinstance(field, models.BooleanField):
        strategy = st.booleans()
    elif isinstance(field, models.DateTimeField):
        strategy = MOMENTS
    elif isinstance(field, models.DateField):
        strategy = st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1))
    elif isinstance(field, models.UUIDField):
        strategy = st.uuids()
    elif isinstance(field, models.JSONField):
        strategy = st.dictionaries(TEXT, JSON_VALUES, max_size=4)
    elif isinstance(field, models.EmailField):
        strategy = st.emails().filter(lambda email: len(email) <= 254)
    elif isinstance(field, models.URLField):
        strategy = st.just("https://example.com/") | st.just("")
    elif isinstance(field, (models.CharField, models.TextField)):
        strategy = TEXT.map(lambda text: text[: field.max_length] if field.max_length else text)
    else:
        raise AssertionError(f"no strategy for {field!r}")
    return st.none() | strategy if field.null else strategy


def _writable(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    skipped = {"id", "tenant", "path", "depth"}  # the tree columns are the service's to keep consistent
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in skipped and not isinstance(field, models.GeneratedField)
    ]


# Columns a check constraint keeps within another: (column, its bound).
BOUNDED = (("shipped_quantity", "quantity"), ("received_quantity", "quantity"))


@st.composite
def _row(draw: st.DrawFn, model: type[models.Model], pools: dict[type[models.Model], list[Any]]) -> dict[str, Any]:
    row = {field.attname: draw(_column(field, pools)) for field in _writable(model)}
    for column, bound in BOUNDED:
        if column in row:
            row[column] = min(row[column], row[bound])
    if "returned_quantity" in row:
        row["returned_quantity"] = min(row["returned_quantity"], row.get("shipped_quantity", row["quantity"]))
    if "reserved" in row:
        row["reserved"] = min(row["reserved"], row["on_hand"])
    return row


def _insert(model: type[models.Model], values: dict[str, Any]) -> Any:
    """Inserts one generated row (auto_now columns keep the drawn value); None if a
    constraint refuses it."""
    instance = model(**values)
    try:
        with transaction.atomic():
            model._default_manager.bulk_create([instance])
    except IntegrityError:
        return None
    return instance


def _renders(fmt: RowFormat, view: Any, pk: Any) -> tuple[dict[str, Any], bytes]:
    rows = fmt.read(view.get_queryset().filter(pk=pk))
    assert len(rows) == 1
    data = fmt.render(rows)[0]
    return data, JSONRenderer().render(data)


def _serialized(view: Any, pk: Any) -> tuple[dict[str, Any], bytes]:
    instance = view.get_queryset().get(pk=pk)
    data = view.get_serializer_class()(instance).data
    return json.loads(renderers.JSONRenderer().render(data)), renderers.JSONRenderer().render(data)


def _compare(fast: dict[str, Any], regular: dict[str, Any]) -> None:
    assert list(fast) == list(regular), "the same fields in the same order"
    for name in regular:
        assert json.loads(json.dumps(fast[name])) == regular[name], name


def _pools() -> dict[type[models.Model], list[Any]]:
    from inventory.models import Category, Customer, Product, Supplier, Warehouse
    from orders.models import PurchaseOrder, SalesOrder
    from tenants.models import User

    models_ = (Category, Product, Warehouse, Customer, Supplier, SalesOrder, PurchaseOrder)
    pools: dict[type[models.Model], list[Any]] = {
        model: list(model.objects.values_list("pk", flat=True)[:5]) for model in models_
    }
    members = User.objects.filter(memberships__tenant=get_current_tenant())
    pools[User] = [None, *members.values_list("pk", flat=True)[:1]]
    return pools


@pytest.mark.parametrize(("cls", "action"), FAST_ACTIONS, ids=[f"{c.__name__}-{a}" for c, a in FAST_ACTIONS])
def test_fast_path_json_equals_the_serializers(cls: type[Any], action: str, in_a: Any) -> None:
    tenant = get_current_tenant()
    inventory_seed(tenant)
    orders_seed(tenant)
    for number in range(5):  # enough product x warehouse pairs for new stock levels
        make_product(sku=f"POOL-{number}", name=f"Pool {number}")
        make_warehouse(f"POOL{number}", name=f"Pool {number}")
    view = _view(cls, action)
    fmt = row_format(view.get_serializer_class())
    model = fmt.model
    pools = _pools()
    compared = {"rows": 0, **{many.name: 0 for many in fmt._many}}

    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        with transaction.atomic():
            parent = _insert(model, data.draw(_row(model, pools)))
            if parent is None:
                transaction.set_rollback(True)
                return
            for many in fmt._many:
                for _ in range(data.draw(st.integers(1, 3))):
                    values = data.draw(_row(many.model, pools))
                    if _insert(many.model, {**values, many.parent_column: parent.pk}) is not None:
                        compared[many.name] += 1
            fast, fast_bytes = _renders(fmt, view, parent.pk)
            regular, regular_bytes = _serialized(view, parent.pk)
            _compare(fast, regular)
            assert fast_bytes == regular_bytes
            compared["rows"] += 1
            transaction.set_rollback(True)

    check()
    # The generated rows got past the constraints: the comparison did happen, nested lists too.
    assert all(count >= 5 for count in compared.values()), compared


def test_list_pages_and_count_match_the_regular_pagination(client_a: Any, in_a: Any) -> None:
    """The count folded into the page query gives the same count, links and 404s."""
    for number in range(7):
        make_product(sku=f"P-{number}", name=f"Product {number}")
    first = client_a.get("/api/v1/products/", {"page_size": 3}).json()
    last = client_a.get("/api/v1/products/", {"page_size": 3, "page": 3}).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (7, 3, None)
    assert first["next"].endswith("/api/v1/products/?page=2&page_size=3")
    assert (last["count"], [p["sku"] for p in last["results"]], last["next"]) == (7, ["P-6"], None)
    assert client_a.get("/api/v1/products/", {"page_size": 3, "page": 4}).status_code == 404
    empty = client_a.get("/api/v1/products/", {"search": "nothing-matches"}).json()
    assert (empty["count"], empty["results"], empty["next"]) == (0, [], None)
    assert client_a.get("/api/v1/products/", {"search": "nothing-matches", "page": 2}).status_code == 404


def test_a_detail_of_a_malformed_or_unknown_id_is_404(client_a: Any, in_a: Any) -> None:
    assert client_a.get(f"/api/v1/products/{'-' * 36}/").status_code == 404
    assert client_a.get(f"/api/v1/products/{uuid.uuid4()}/").status_code == 404


def test_the_renderer_writes_what_drf_writes() -> None:
    data = {
        "text": "a\u2028b\u2029c é 😀",
        "decimal": Decimal("1.50"),
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        "day": dt.date(2026, 1, 2),
        "id": uuid.UUID(int=5),
        "big": 2**70,
        "nested": [{"x": None, "y": True}],
    }
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)
    assert JSONRenderer().render({1: "a"}) == renderers.JSONRenderer().render({1: "a"})
    request = APIRequestFactory().get("/")
    assert JSONRenderer().render(data, "application/json; indent=2", {"request": request}) == (
        renderers.JSONRenderer().render(data, "application/json; indent=2", {"request": request})
    )


def test_count_and_page_match_count_and_list(in_a: Any) -> None:
    """One pipeline, the same answers as ``count()`` and ``list()``: plain, distinct, empty
    by construction, and a page past the end."""
    from inventory.models import Product

    for number in range(4):
        make_product(sku=f"CP-{number}", name="same name")
    products = Product.objects.order_by("sku")
    for queryset in (products, products.filter(sku__in=["CP-1", "CP-3"]), products.filter(pk__in=[])):
        page = queryset.values_list("sku")[1:3]
        assert count_and_page(queryset, page) == (queryset.count(), list(page))
    names = Product.objects.values("name").distinct().order_by("name")
    assert count_and_page(names, names.values_list("name")[:1]) == (1, [("same name",)])
    assert count_and_page(products, products.values_list("sku")[10:20]) == (4, [])


# --- Compiled SQL kept per request shape (core.api.compiled) ------------------------------------


class _TimeDependentProducts(ProductViewSet):
    """Built with a timestamp: its SQL differs on every build."""

    def scoped_queryset(self) -> Any:
        return super().scoped_queryset().filter(created_at__lte=timezone.now())


class _DatabaseReadingProducts(ProductViewSet):
    """Built from a value read from the database while building."""

    def scoped_queryset(self) -> Any:
        from inventory.models import Product

        newest = list(Product.objects.order_by("-created_at").values_list("pk", flat=True)[:3])
        return super().scoped_queryset().filter(pk__in=newest)


def _call(view_class: type[Any], membership: Any, **extra: Any) -> Any:
    from tenants.tokens import tokens_for_membership

    token = tokens_for_membership(membership)["access"]
    request = APIRequestFactory().get("/api/v1/products/", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)
    from tenants.middleware import TenantMiddleware

    return TenantMiddleware(lambda r: view_class.as_view({"get": "list"})(r))(request)


def test_lists_keep_their_sql_not_their_rows(client_a: Any, in_a: Any) -> None:
    make_product(sku="KEEP-1")
    first = client_a.get("/api/v1/products/").json()
    make_product(sku="KEEP-2")  # the kept SQL reads the new row: only the SQL is kept
    second = client_a.get("/api/v1/products/").json()
    assert (first["count"], second["count"]) == (1, 2)
    assert [p["sku"] for p in second["results"]] == ["KEEP-1", "KEEP-2"]
    kept = [value for value in compiled._local.entries.values() if isinstance(value, CompiledPage)]
    assert kept, "the product list's SQL is kept"


def test_a_query_that_is_not_a_function_of_the_request_is_never_kept(owner_a: Any, in_a: Any) -> None:
    make_product(sku="T-1")
    for view_class in (_TimeDependentProducts, _DatabaseReadingProducts):
        compiled.clear()
        before = _call(view_class, owner_a).data["count"]
        assert list(compiled._local.entries.values()) == [compiled.UNCACHEABLE]
        make_product(sku=f"T-{view_class.__name__}")
        assert _call(view_class, owner_a).data["count"] == before + 1


def test_details_keep_their_sql_with_the_id_as_parameter(client_a: Any, in_a: Any) -> None:
    one, two = make_product(sku="D-1"), make_product(sku="D-2")
    assert client_a.get(f"/api/v1/products/{one.id}/").json()["sku"] == "D-1"
    assert client_a.get(f"/api/v1/products/{two.id}/").json()["sku"] == "D-2"
    assert client_a.get(f"/api/v1/products/{uuid.uuid4()}/").status_code == 404
    assert client_a.get(f"/api/v1/products/{'-' * 36}/").status_code == 404
    assert client_a.get(f"/api/v1/products/{one.id}/").json()["sku"] == "D-1"


def test_the_kept_sql_is_per_member(client_a: Any, client_b: Any, in_a: Any) -> None:
    """Another tenant asking the same URL never runs the first tenant's SQL."""
    make_product(sku="A-ONLY")
    assert client_a.get("/api/v1/products/").json()["count"] == 1
    assert client_b.get("/api/v1/products/").json()["count"] == 0


def test_counts_without_the_joins_only_the_page_needs(in_a: Any) -> None:
    """The COUNT leaves out joins nothing filters on (the stock levels' product); with any
    filter it equals ``count()``."""
    from decimal import Decimal

    from inventory import selectors
    from inventory.services import stock

    warehouse, other = make_warehouse("CNT1"), make_warehouse("CNT2")
    for number in range(5):
        product = make_product(sku=f"CNT-{number}", reorder_point=Decimal(3))
        stock.stock_receive(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal(number + 1))
        if number % 2:
            stock.stock_receive(product_id=product.id, warehouse_id=other.id, quantity=Decimal(1))
    levels = selectors.stock_level_list()
    below = selectors.below_reorder_point(levels)
    for queryset in (
        levels,
        levels.filter(warehouse_id=warehouse.id),
        levels.filter(product__sku__icontains="cnt-1"),
        below,
        levels.exclude(pk__in=below.values("pk")),
        selectors.product_list().filter(category__isnull=True),
    ):
        page = queryset.values_list("pk")[:2]
        assert count_and_page(queryset, page)[0] == queryset.count()
    sql = compile_count_and_page(levels.filter(warehouse_id=warehouse.id), levels.values_list("pk")[:2])
    assert sql is not None and "inventory_product" not in sql.count_sql
