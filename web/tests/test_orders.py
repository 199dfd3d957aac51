"""The order pages on the real stack (sessions, RLS, services): sales and purchase
orders listed, created and edited with lines, priced live by the server, confirmed or
placed, shipped or received in part, returned, cancelled; the roles; hostile input;
query counts that do not grow with the data. Each refused case also checks that
nothing was written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.models import Reservation, StockLevel, StockMovement
from inventory.tests.factories import make_product, make_warehouse, receive
from orders import services
from orders.models import PurchaseOrder, SalesOrder, StatusChange
from orders.tests.factories import line, make_customer, make_supplier
from tenants.context import tenant_context
from tenants.tests.factories import make_member
from web.tests.helpers import console_client, page_queries

pytestmark = pytest.mark.django_db
SO = "/app/alpha/sales-orders/"
PO = "/app/alpha/purchase-orders/"


class Shop:
    """Tenant A: a warehouse, two stocked products, a customer and a supplier."""

    def __init__(self, tenant: Any) -> None:
        with tenant_context(tenant):
            self.wh = make_warehouse("MAIN")
            self.bolt = make_product(sku="BOLT", name="Hex bolt", selling_price=Decimal("0.50"))
            self.saw = make_product(sku="SAW", name="Hand saw", selling_price=Decimal("20.00"))
            self.customer = make_customer("Bob's Garage")
            self.supplier = make_supplier("Acme Supply")
            receive(self.bolt, self.wh, 100, "0.20")
            receive(self.saw, self.wh, 5, "8.00")
        self.tenant = tenant

    def sale(self, *lines: tuple[Any, int], confirm: bool = False) -> SalesOrder:
        with tenant_context(self.tenant):
            order = services.sales_order_create(
                customer=self.customer, lines=[line(p, self.wh, q) for p, q in lines], user=None
            )
            if confirm:
                services.sales_order_confirm(order_id=order.pk, user=None)
            return SalesOrder.objects.get(pk=order.pk)

    def purchase(self, *lines: tuple[Any, int], place: bool = False) -> PurchaseOrder:
        with tenant_context(self.tenant):
            order = services.purchase_order_create(
                supplier=self.supplier, lines=[line(p, self.wh, q) for p, q in lines], user=None
            )
            if place:
                services.purchase_order_place(order_id=order.pk, user=None)
            return PurchaseOrder.objects.get(pk=order.pk)


@pytest.fixture
def shop(tenant_a):
    return Shop(tenant_a)


def _form(shop: Shop, *lines: tuple[Any, Any, dict[str, str]], party: str = "customer", **extra: str) -> dict:
    data = {
        party: str((shop.customer if party == "customer" else shop.supplier).id),
        "expected_date": "",
        "external_reference": "",
        "notes": "",
        "lines-TOTAL_FORMS": str(len(lines)),
    }
    for i, (product, quantity, options) in enumerate(lines):
        values = {
            "product": product if isinstance(product, str) else product.sku,
            "warehouse": str(shop.wh.id),
            "quantity": str(quantity),
            "unit_price": "",
            "discount_percent": "",
            "tax_rate": "",
            **options,
        }
        data.update({f"lines-{i}-{name}": value for name, value in values.items()})
    data.update(extra)
    return data


def _counts(tenant):
    with tenant_context(tenant):
        return (
            SalesOrder.objects.count(),
            PurchaseOrder.objects.count(),
            StockMovement.objects.count(),
            Reservation.objects.count(),
            StatusChange.objects.count(),
        )


# --- Lists -----------------------------------------------------------------------------


def test_list_runs_a_constant_number_ofpage_queries(owner, shop, tenant_a):
    with tenant_context(tenant_a):
        receive(shop.saw, shop.wh, 50)
    shop.sale((shop.bolt, 1))
    few = page_queries(owner, SO)
    for n in range(30):
        shop.sale((shop.bolt, 1), (shop.saw, 1), confirm=n % 2 == 0)
    assert page_queries(owner, SO) == few
    assert page_queries(owner, SO + "?page=2&status=confirmed&q=bob") == few
    shop.purchase((shop.bolt, 1))
    few = page_queries(owner, PO)
    for _ in range(30):
        shop.purchase((shop.bolt, 2), (shop.saw, 1), place=True)
    assert page_queries(owner, PO) == few


def test_list_filters_by_status_searches_and_pages(owner, shop):
    for _ in range(27):
        shop.sale((shop.bolt, 1))
    confirmed = shop.sale((shop.bolt, 2), confirm=True)
    page = owner.get(SO).content.decode()
    assert "1\u201325 of 28" in page and "Draft" in page
    assert ">Confirmed <span" in page and ">1</span>" in page  # the tab counts
    only = owner.get(SO + "?status=confirmed").content.decode()
    assert "1\u20131 of 1" in only and confirmed.number in only
    found = owner.get(SO + f"?q={confirmed.number.lower()}").content.decode()
    assert "1\u20131 of 1" in found
    assert "No sales order matches" in owner.get(SO + "?q=nobody").content.decode()
    # HTMX asks for the tabs and the table only.
    partial = owner.get(SO + "?status=draft&page=2", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="order-table">') and "<html" not in partial
    assert "26\u201327 of 27" in partial


def test_empty_lists_say_what_belongs_there(owner, shop):
    assert "Create the first sales order" in owner.get(SO).content.decode()
    assert "Create the first purchase order" in owner.get(PO).content.decode()


@pytest.mark.parametrize(
    "query", ["?page=-1", "?page=abc", "?page=99999999999999999999", "?status=DROP", "?q=%00", "?q=" + "x" * 5000]
)
def test_list_answers_hostile_query_strings(owner, shop, query):
    assert owner.get(SO + query).status_code == 200
    assert owner.get(PO + query).status_code == 200


# --- Creating and editing drafts ---------------------------------------------------------


def test_create_a_sales_order_with_two_lines(owner, shop, tenant_a):
    response = owner.post(
        SO + "new/",
        _form(
            shop, (shop.bolt, 10, {}), (shop.saw, 1, {"unit_price": "18", "discount_percent": "10", "tax_rate": "20"})
        ),
    )
    with tenant_context(tenant_a):
        order = SalesOrder.objects.get()
        lines = list(order.lines.order_by("position"))
    assert response["Location"] == f"{SO}{order.id}/"
    # bolt 10 x 0.50 = 5.00; saw 18.00 - 1.80 + 3.24 = 19.44
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        Decimal("23.00"),
        Decimal("1.80"),
        Decimal("3.24"),
        Decimal("24.44"),
    )
    assert [ln.unit_price for ln in lines] == [Decimal("0.5"), Decimal("18")]
    page = owner.get(response["Location"]).content.decode()
    assert "Draft sales order for Bob&#x27;s Garage saved: 2 lines, USD 24.44." in page
    assert "Created as" in page and "USD 24.44" in page


def test_the_live_totals_are_the_services_prices(owner, shop):
    data = _form(shop, (shop.bolt, 3, {}), (shop.saw, 2, {"discount_percent": "50"}), ("", "", {}))
    response = owner.post(SO + "lines-preview/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    # 3 x 0.50 = 1.50; 2 x 20.00 = 40.00 - 20.00 = 20.00; the blank line counts as nothing.
    assert "USD 21.50" in text and "USD 41.50" in text
    assert 'id="line-amount-0" hx-swap-oob="true"' in text and "USD 1.50" in text
    assert 'id="line-amount-2" hx-swap-oob="true"' in text
    assert "<html" not in text


def test_adding_and_removing_lines_saves_nothing(owner, shop, tenant_a):
    data = _form(shop, (shop.bolt, 3, {}), (shop.saw, 1, {}))
    added = owner.post(SO + "lines-preview/", {**data, "op": "add"}, HTTP_HX_REQUEST="true").content.decode()
    assert added.lstrip().startswith('<div id="order-lines">') and 'value="3"' in added
    assert 'name="lines-2-product"' in added and "is-invalid" not in added
    removed = owner.post(SO + "lines-preview/", {**data, "op": "remove-0"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="lines-1-product"' not in removed and 'value="SAW"' in removed
    # Without JavaScript the same buttons post the whole form.
    page = owner.post(SO + "new/", {**data, "op": "add"})
    assert page.status_code == 200 and 'name="lines-2-product"' in page.content.decode()
    assert _counts(tenant_a)[0] == 0


def test_create_refuses_bad_lines_under_their_fields(owner, shop, tenant_a, tenant_b):
    before = _counts(tenant_a)
    with tenant_context(tenant_b):
        foreign = make_customer("Theirs")
    bad = owner.post(
        SO + "new/",
        _form(
            shop,
            ("NOPE-1", 1, {}),
            (shop.bolt, "1.5", {}),
            (shop.saw, "1e40", {"discount_percent": "101"}),
            customer=str(foreign.id),
        ),
    )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Select a valid choice" in text  # another workspace's customer
    assert "No product has this SKU or barcode." in text
    assert 'id="id_lines-0-product_error"' in text and 'aria-describedby="id_lines-0-product_error"' in text
    assert "Ensure this value is less than or equal to 100." in text
    # A whole-number unit refuses a fraction: the service's rule, under the line's quantity.
    fraction = owner.post(SO + "new/", _form(shop, (shop.bolt, "1.5", {})))
    assert fraction.status_code == 400 and 'id="id_lines-0-quantity_error"' in fraction.content.decode()
    assert "use a whole number" in fraction.content.decode()
    nothing = owner.post(SO + "new/", _form(shop, ("", "", {})))
    assert nothing.status_code == 400 and "An order needs at least one line." in nothing.content.decode()
    assert _counts(tenant_a) == before


def test_an_amount_too_large_is_refused_before_anything_is_written(owner, shop, tenant_a):
    huge = {"unit_price": "9999999999.9999"}
    response = owner.post(SO + "new/", _form(shop, (shop.bolt, "9999999999", huge)))
    assert response.status_code == 400 and "over the largest amount" in response.content.decode()
    preview = owner.post(SO + "lines-preview/", _form(shop, (shop.bolt, "9999999999", huge)), HTTP_HX_REQUEST="true")
    assert preview.status_code == 200 and "over the largest amount" in preview.content.decode()
    assert _counts(tenant_a)[0] == 0


@pytest.mark.parametrize(
    "garbage",
    [
        {"lines-TOTAL_FORMS": "99999999999999999999999"},
        {"lines-TOTAL_FORMS": "-5"},
        {"lines-TOTAL_FORMS": "many"},
        {"lines-0-warehouse": "not-a-uuid", "lines-0-quantity": "NaN"},
        {"lines-0-quantity": "Infinity", "lines-0-unit_price": "-0"},
        {"op": "remove-x"},
        {"op": "remove-99999999999999999999"},
        {"customer": "' OR 1=1 --"},
        {"lines-0-product": "BO\x00LT", "lines-0-warehouse": "\x00"},
    ],
)
def test_the_editor_answers_hostile_input(owner, shop, tenant_a, garbage):
    data = {**_form(shop, (shop.bolt, 1, {})), **garbage}
    assert owner.post(SO + "new/", data).status_code in (200, 302, 400)
    assert owner.post(SO + "lines-preview/", data, HTTP_HX_REQUEST="true").status_code == 200


def test_edit_a_draft_and_not_a_confirmed_order(owner, shop, tenant_a):
    draft = shop.sale((shop.bolt, 1))
    url = f"{SO}{draft.id}/edit/"
    page = owner.get(url).content.decode()
    assert 'value="BOLT"' in page and "Edit draft sales order" in page
    saved = owner.post(url, _form(shop, (shop.bolt, 4, {}), (shop.saw, 1, {})))
    assert saved["Location"] == f"{SO}{draft.id}/"
    with tenant_context(tenant_a):
        draft.refresh_from_db()
        assert draft.total == Decimal("22.00") and draft.lines.count() == 2
    confirmed = shop.sale((shop.bolt, 1), confirm=True)
    refused = owner.post(f"{SO}{confirmed.id}/edit/", _form(shop, (shop.bolt, 50, {})))
    assert refused["Location"] == f"{SO}{confirmed.id}/"
    assert "only drafts can be edited" in owner.get(refused["Location"]).content.decode()
    with tenant_context(tenant_a):
        assert confirmed.lines.get().quantity == Decimal("1")


def test_a_duplicate_external_reference_is_the_fields_error(owner, shop, tenant_a):
    owner.post(SO + "new/", _form(shop, (shop.bolt, 1, {}), external_reference="SHOP-1"))
    again = owner.post(SO + "new/", _form(shop, (shop.bolt, 1, {}), external_reference="SHOP-1"))
    assert again.status_code == 400 and 'id="id_external_reference_error"' in again.content.decode()
    assert _counts(tenant_a)[0] == 1


def test_delete_a_draft(owner, shop, tenant_a):
    draft = shop.sale((shop.bolt, 1))
    response = owner.post(f"{SO}{draft.id}/delete/")
    assert response["Location"] == SO
    assert "Draft sales order for Bob&#x27;s Garage deleted." in owner.get(SO).content.decode()
    assert _counts(tenant_a)[0] == 0


# --- The order page and its actions --------------------------------------------------------


def test_order_page_runs_a_constant_number_ofpage_queries(owner, shop, tenant_a):
    def shipped_order(products: list[Any], shipments: int) -> SalesOrder:
        order = shop.sale(*[(p, 2) for p in products], confirm=True)
        with tenant_context(tenant_a):
            lines = list(order.lines.all())
            for _ in range(shipments):
                services.sales_order_ship(
                    order_id=order.pk, lines=[services.QuantityInput(ln.id, Decimal(1)) for ln in lines], user=None
                )
            services.sales_order_return(
                order_id=order.pk,
                lines=[services.QuantityInput(lines[0].id, Decimal(1), disposition="restock")],
                user=None,
            )
        return order

    small = shipped_order([shop.bolt], 1)
    few = page_queries(owner, f"{SO}{small.id}/")
    with tenant_context(tenant_a):
        many = [make_product(sku=f"MANY-{n}") for n in range(12)]
        for product in many:
            receive(product, shop.wh, 10)
    big = shipped_order(many, 2)
    assert page_queries(owner, f"{SO}{big.id}/") == few


def test_confirm_reserves_and_says_so(owner, shop, tenant_a):
    order = shop.sale((shop.bolt, 10), (shop.saw, 2))
    page = owner.get(f"{SO}{order.id}/").content.decode()
    assert "/confirm/" in page and "/ship/" not in page
    response = owner.post(f"{SO}{order.id}/confirm/")
    assert response["Location"] == f"{SO}{order.id}/"
    page = owner.get(response["Location"]).content.decode()
    assert "SO-000001 confirmed: 2 lines reserved." in page
    assert "/ship/" in page and "/confirm/" not in page and "from draft" in page
    with tenant_context(tenant_a):
        assert StockLevel.objects.get(product=shop.saw).reserved == Decimal("2")


def test_confirm_short_of_stock_says_what_is_available_per_line(owner, shop, tenant_a):
    order = shop.sale((shop.bolt, 500), (shop.saw, 9))
    before = _counts(tenant_a)
    response = owner.post(f"{SO}{order.id}/confirm/")
    assert response.status_code == 409
    text = response.content.decode()
    assert "Not enough stock" in text
    assert "BOLT in MAIN: 500 pcs requested, 100 pcs available" in text
    assert "SAW in MAIN: 9 pcs requested, 5 pcs available" in text
    assert _counts(tenant_a) == before
    with tenant_context(tenant_a):
        assert SalesOrder.objects.get().status == "draft"


def test_an_action_the_state_does_not_allow_says_what_is_allowed_now(owner, shop, tenant_a):
    order = shop.sale((shop.bolt, 1), confirm=True)
    before = _counts(tenant_a)
    response = owner.post(f"{SO}{order.id}/confirm/")
    assert response.status_code == 409
    text = response.content.decode()
    assert "Cannot confirm an order that is confirmed." in text
    assert "It is confirmed now. Allowed now: Cancel, Ship." in text
    assert _counts(tenant_a) == before


def test_ship_part_then_the_rest(owner, shop, tenant_a):
    order = shop.sale((shop.bolt, 10), (shop.saw, 2), confirm=True)
    url = f"{SO}{order.id}/ship/"
    form = owner.get(url).content.decode()
    assert 'name="quantity_0" value="10"' in form and 'name="quantity_1" value="2"' in form
    response = owner.post(url, {"quantity_0": "4", "quantity_1": "", "carrier": "DHL", "tracking_number": "JD01"})
    assert response["Location"] == f"{SO}{order.id}/"
    page = owner.get(response["Location"]).content.decode()
    assert "SO-000001 shipped: 4 pcs BOLT; now partially fulfilled." in page
    assert "Shipped 4 pcs BOLT via DHL, tracking JD01" in page
    assert 'data-moved="BOLT">4 pcs<' in page
    owner.post(url, {"quantity_0": "6", "quantity_1": "2"})
    with tenant_context(tenant_a):
        order.refresh_from_db()
        assert order.status == "fulfilled"
        assert StockLevel.objects.get(product=shop.bolt).on_hand == Decimal("90")
    assert "/ship/" not in owner.get(f"{SO}{order.id}/").content.decode()


def test_ship_more_than_outstanding_is_refused_under_the_line(owner, shop, tenant_a):
    order = shop.sale((shop.bolt, 10), (shop.saw, 2), confirm=True)
    before = _counts(tenant_a)
    response = owner.post(f"{SO}{order.id}/ship/", {"quantity_0": "1", "quantity_1": "3"})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="id_quantity_1_error"' in text and "left to ship on this line." in text
    nothing = owner.post(f"{SO}{order.id}/ship/", {"quantity_0": "0", "quantity_1": ""})
    assert nothing.status_code == 400 and "Give at least one line and quantity." in nothing.content.decode()
    hostile = owner.post(f"{SO}{order.id}/ship/", {"quantity_0": "1e99", "quantity_1": "-1"})
    assert hostile.status_code == 400
    assert _counts(tenant_a) == before


def test_a_draft_cannot_be_shipped(owner, shop):
    order = shop.sale((shop.bolt, 1))
    response = owner.get(f"{SO}{order.id}/ship/")
    assert response["Location"] == f"{SO}{order.id}/"


def test_a_customer_return_asks_what_happens_to_the_goods(owner, shop, tenant_a):
    order = shop.sale((shop.bolt, 10), confirm=True)
    owner.post(f"{SO}{order.id}/ship/", {"quantity_0": "10"})
    before = _counts(tenant_a)
    url = f"{SO}{order.id}/return/"
    refused = owner.post(url, {"quantity_0": "3", "disposition_0": ""})
    assert refused.status_code == 400 and 'id="id_disposition_0_error"' in refused.content.decode()
    assert _counts(tenant_a) == before
    done = owner.post(url, {"quantity_0": "3", "disposition_0": "restock", "reason": "Wrong size"})
    assert done["Location"] == f"{SO}{order.id}/"
    page = owner.get(done["Location"]).content.decode()
    assert "Return on SO-000001 recorded: 3 pcs BOLT." in page and "(back into stock)" in page
    with tenant_context(tenant_a):
        assert StockLevel.objects.get(product=shop.bolt).on_hand == Decimal("93")


def test_cancel_a_confirmed_order_needs_a_manager(shop, tenant_a):
    order = shop.sale((shop.bolt, 10), confirm=True)
    clerk = console_client(make_member(tenant_a, "clerk"))
    page = clerk.get(f"{SO}{order.id}/").content.decode()
    assert "/ship/" in page and "/cancel/" not in page
    before = _counts(tenant_a)
    assert clerk.post(f"{SO}{order.id}/cancel/").status_code == 403
    assert _counts(tenant_a) == before
    manager = console_client(make_member(tenant_a, "manager"))
    page = manager.get(f"{SO}{order.id}/").content.decode()
    assert 'data-confirm="Cancel SO-000001?"' in page
    response = manager.post(f"{SO}{order.id}/cancel/", {"reason": "Customer changed their mind"})
    text = manager.get(response["Location"]).content.decode()
    assert "SO-000001 cancelled: reservations released." in text and "Customer changed their mind" in text
    with tenant_context(tenant_a):
        assert StockLevel.objects.get(product=shop.bolt).reserved == Decimal("0")


def test_a_clerk_cancels_a_draft(shop, tenant_a):
    order = shop.sale((shop.bolt, 1))
    clerk = console_client(make_member(tenant_a, "clerk"))
    page = clerk.get(f"{SO}{order.id}/").content.decode()
    assert 'data-confirm="Cancel this draft sales order for Bob&#x27;s Garage?"' in page
    assert clerk.post(f"{SO}{order.id}/cancel/").status_code == 302
    with tenant_context(tenant_a):
        assert SalesOrder.objects.get().status == "cancelled"


def test_a_viewer_reads_but_sees_no_buttons_and_is_refused(shop, tenant_a):
    order = shop.sale((shop.bolt, 1))
    viewer = console_client(make_member(tenant_a, "viewer"))
    assert "New sales order" not in viewer.get(SO).content.decode()
    page = viewer.get(f"{SO}{order.id}/").content.decode()
    assert "/confirm/" not in page and "/edit/" not in page and "/cancel/" not in page
    before = _counts(tenant_a)
    for path in ("confirm/", "cancel/", "delete/", "edit/"):
        assert viewer.post(f"{SO}{order.id}/{path}").status_code == 403
    assert viewer.get(SO + "new/").status_code == 403
    assert viewer.post(SO + "lines-preview/", _form(shop, (shop.bolt, 1, {}))).status_code == 403
    assert _counts(tenant_a) == before


def test_posts_without_a_csrf_token_are_refused(owner_a, shop, tenant_a):
    from django.test import Client

    from tenants.tests.factories import PASSWORD

    client = Client(enforce_csrf_checks=True)
    token = client.get("/login/").cookies["csrftoken"].value
    client.post("/login/", {"email": owner_a.user.email, "password": PASSWORD, "csrfmiddlewaretoken": token})
    order = shop.sale((shop.bolt, 1))
    assert client.post(f"{SO}{order.id}/confirm/").status_code == 403
    assert client.post(SO + "new/", _form(shop, (shop.bolt, 1, {}))).status_code == 403
    with tenant_context(tenant_a):
        assert SalesOrder.objects.get().status == "draft"


def test_another_workspaces_order_is_not_found(owner, shop, tenant_b):
    with tenant_context(tenant_b):
        theirs = services.sales_order_create(
            customer=make_customer("Theirs"),
            lines=[line(make_product(sku="T-1"), make_warehouse("T"), 1)],
            user=None,
        )
    assert owner.get(f"{SO}{theirs.id}/").status_code == 404
    assert owner.post(f"{SO}{theirs.id}/confirm/").status_code == 404
    with tenant_context(tenant_b):
        assert SalesOrder.objects.get().status == "draft"


# --- Purchase orders ------------------------------------------------------------------------


def test_purchase_order_from_draft_to_received(owner, shop, tenant_a):
    response = owner.post(
        PO + "new/",
        _form(
            shop,
            (shop.bolt, 50, {"unit_price": "0.18"}),
            (shop.saw, 2, {}),
            party="supplier",
            over_receipt_tolerance_percent="10",
        ),
    )
    with tenant_context(tenant_a):
        order = PurchaseOrder.objects.get()
    assert response["Location"] == f"{PO}{order.id}/"
    assert order.total == Decimal("13.00")  # 50 x 0.18, and the saw at its cost price: 2 x 2.00
    page = owner.get(response["Location"]).content.decode()
    assert "/place/" in page and "/receive/" not in page
    placed = owner.post(f"{PO}{order.id}/place/")
    assert "PO-000001 ordered from Acme Supply: 2 lines." in owner.get(placed["Location"]).content.decode()
    url = f"{PO}{order.id}/receive/"
    assert 'name="quantity_0" value="50"' in owner.get(url).content.decode()
    before = _counts(tenant_a)
    over = owner.post(url, {"quantity_0": "56", "quantity_1": ""})  # 10 % over 50 is 55
    assert over.status_code == 400 and "would exceed the ordered 50" in over.content.decode()
    assert _counts(tenant_a) == before
    part = owner.post(url, {"quantity_0": "30", "quantity_1": "", "note": "First pallet"})
    text = owner.get(part["Location"]).content.decode()
    assert "PO-000001 received: 30 pcs BOLT; now partially received." in text
    assert "Received 30 pcs BOLT" in text and "First pallet" in text
    with tenant_context(tenant_a):
        assert StockLevel.objects.get(product=shop.bolt).on_hand == Decimal("130")
    back = owner.post(f"{PO}{order.id}/return/", {"quantity_0": "5", "quantity_1": "", "reason": "Rusty"})
    assert "Return on PO-000001 recorded: 5 pcs BOLT." in owner.get(back["Location"]).content.decode()
    with tenant_context(tenant_a):
        assert StockLevel.objects.get(product=shop.bolt).on_hand == Decimal("125")


def test_purchase_prices_default_to_the_suppliers(owner, shop, tenant_a):
    from inventory.services import catalog

    with tenant_context(tenant_a):
        catalog.supplier_product_create(supplier=shop.supplier, product=shop.bolt, price=Decimal("0.15"))
    preview = owner.post(
        PO + "lines-preview/", _form(shop, (shop.bolt, 100, {}), party="supplier"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "USD 15.00" in preview and "at USD 0.15" in preview


def test_cancel_a_placed_purchase_order(shop, tenant_a):
    order = shop.purchase((shop.bolt, 5), place=True)
    manager = console_client(make_member(tenant_a, "manager"))
    response = manager.post(f"{PO}{order.id}/cancel/")
    assert "PO-000001 cancelled." in manager.get(response["Location"]).content.decode()
    again = manager.post(f"{PO}{order.id}/cancel/")
    assert again.status_code == 409 and "Allowed now: nothing." in again.content.decode()
