"""The forms of the order pages: the order and its lines (create, edit while draft), and
a quantity per line for shipments, receipts and returns.

Choices come from lists the view reads once per page (``objects``), not from one
queryset per line, so an order of many lines costs no query per line; another
workspace's id is simply not among them ("not a valid choice")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Model

from core.numbers import PERCENT, PRICE, QUANTITY
from inventory.models import Product
from orders.models import ReturnDisposition
from web.forms import StyledForm

MAX_LINES = 500  # as the API's (orders/api/serializers.py)
ZERO = Decimal("0")
LINE_FIELDS = ("product", "warehouse", "quantity", "unit_price", "discount_percent", "tax_rate")


def plain(number: Decimal) -> str:
    """``10``, ``2.5``: a number for an input, without trailing zeros or exponent."""
    return f"{number.normalize():f}"


def object_choices(objects: Sequence[Model], label: Any = str) -> tuple[list[tuple[str, str]], dict[str, Model]]:
    return [(str(o.pk), label(o)) for o in objects], {str(o.pk): o for o in objects}


class _ObjectField(forms.TypedChoiceField):
    """A choice among objects read once by the view; cleans to the object."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=(), coerce=str, empty_value=None, **kwargs)
        self.objects: Mapping[str, Model] = {}

    def set_objects(self, objects: Sequence[Model], label: Any = str, blank: str | None = None) -> None:
        choices, self.objects = object_choices(objects, label)
        self.choices = ([("", blank)] if blank is not None else []) + choices
        self.coerce = self.objects.__getitem__


class OrderForm(StyledForm):
    """The order's own fields; ``party`` is ``customer`` or ``supplier``."""

    expected_date = forms.DateField(
        required=False,
        label="Expected date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    external_reference = forms.CharField(
        max_length=100,
        required=False,
        label="External reference",
        help_text="Your other system's id for this order; unique in the workspace.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 1}), required=False, max_length=5000)

    def __init__(self, *args: Any, party: str, parties: Sequence[Model], purchase: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = _ObjectField(label=party.capitalize())
        chosen.set_objects(parties, blank=f"Choose a {party}")
        chosen.widget.attrs["class"] = "form-select"
        added: dict[str, forms.Field] = {party: chosen}
        if purchase:
            added["over_receipt_tolerance_percent"] = PERCENT.form_field(
                required=False,
                initial=0,
                label="Over-receipt tolerance (%)",
                help_text="How much more than ordered may be received.",
                widget=forms.NumberInput(attrs={"class": "form-control"}),
            )
        self.fields = {party: chosen, **self.fields, **{k: v for k, v in added.items() if k != party}}


class OrderLineForm(StyledForm):
    """One line: a product by SKU or barcode (a list suggests them), a warehouse, a
    quantity, and optionally a unit price (default: the service's), discount and tax."""

    product = forms.CharField(
        max_length=64,
        label="Product",
        widget=forms.TextInput(attrs={"list": "product-codes", "autocomplete": "off", "spellcheck": "false"}),
    )
    warehouse = _ObjectField(label="Warehouse")
    quantity = QUANTITY.form_field(min_value=QUANTITY.quantum)
    unit_price = PRICE.form_field(required=False, label="Unit price")
    discount_percent = PERCENT.form_field(required=False, label="Discount %")
    tax_rate = PERCENT.form_field(required=False, label="Tax %")

    def __init__(self, *args: Any, products: Mapping[str, Product], warehouses: Sequence[Model], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products = products
        self.fields["warehouse"].set_objects(warehouses, label=lambda w: w.code)  # type: ignore[attr-defined]

    def clean_product(self) -> Product:
        code = self.cleaned_data["product"].strip()
        product = self.products.get(code)
        if product is None:
            raise forms.ValidationError("No product has this SKU or barcode.")
        return product

    def mark_errors(self) -> None:
        super().mark_errors()
        for name in self.errors:  # the prefixed ids of this line's fields
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}_error"

    def line_input(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product": data["product"],
            "warehouse": data["warehouse"],
            "quantity": data["quantity"],
            "unit_price": data.get("unit_price"),
            "discount_percent": data.get("discount_percent") or ZERO,
            "tax_rate": data.get("tax_rate") or ZERO,
        }


class LineQuantitiesForm(StyledForm):
    """A quantity per order line (``line_quantities_form`` adds the fields)."""

    lines: Sequence[Any] = ()
    outstanding: Mapping[Any, Decimal] = {}

    def rows(self) -> list[dict[str, Any]]:
        """Per order line: the line, what is left to move, its quantity field, its
        disposition field (customer returns)."""
        return [
            {
                "line": line,
                "left": self.outstanding.get(line.id),
                "quantity": self[f"quantity_{index}"],
                "disposition": self[f"disposition_{index}"] if f"disposition_{index}" in self.fields else None,
            }
            for index, line in enumerate(self.lines)
        ]

    def given(self) -> list[tuple[str, Any, Decimal, str | None]]:
        """The lines with a quantity above zero: (field name, line, quantity, disposition)."""
        data = self.cleaned_data
        chosen = []
        for index, line in enumerate(self.lines):
            quantity = data.get(f"quantity_{index}")
            if quantity:
                chosen.append((f"quantity_{index}", line, quantity, data.get(f"disposition_{index}") or None))
        return chosen


def line_quantities_form(
    *, action: str, lines: Sequence[Any], outstanding: Mapping[Any, Decimal]
) -> type[LineQuantitiesForm]:
    """A quantity per line, prefilled with what is outstanding for shipments and
    receipts (blank for returns), and for customer returns what happens to the goods."""
    attrs: dict[str, Any] = {"lines": list(lines), "outstanding": dict(outstanding)}
    for index, line in enumerate(lines):
        attrs[f"quantity_{index}"] = QUANTITY.form_field(
            required=False,
            label=f"Quantity of {line.product.sku}",
            initial=None if action.endswith("return") or not outstanding[line.id] else plain(outstanding[line.id]),
        )
        if action == "sales-return":
            attrs[f"disposition_{index}"] = forms.ChoiceField(
                required=False,
                label=f"What happens to the returned {line.product.sku}",
                choices=[("", "Choose"), *ReturnDisposition.choices],
            )
    return type("LineQuantities", (LineQuantitiesForm,), attrs)


class ShipmentForm(StyledForm):
    carrier = forms.CharField(max_length=100, required=False)
    tracking_number = forms.CharField(max_length=100, required=False, label="Tracking number")
    note = forms.CharField(max_length=2000, required=False)


class ReceiptForm(StyledForm):
    note = forms.CharField(max_length=2000, required=False)


class ReturnForm(StyledForm):
    reason = forms.CharField(max_length=500, required=False)
