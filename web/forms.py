"""The console's input layer: Django forms, as the API's is serializers. They check
shapes and limits; the rules stay in the services, whose domain errors become form
errors in one place (``apply_error``)."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django.http import HttpRequest

from core.errors import DomainError
from core.numbers import PRICE, QUANTITY
from integrations import event_types
from integrations.models import ConnectorKind
from integrations.shopify import SHOP_DOMAIN_PATTERN
from inventory.models import CATEGORY_NAME_MAX_LENGTH, Category, ExportKind, MovementKind, Unit, Warehouse
from orders.models import PREFIX_MESSAGE, PREFIX_PATTERN
from tenants import api_key_format
from tenants.currency import CURRENCY_CHOICES
from tenants.models import Role

# Field names the services use that a form calls differently.
_FIELD_ALIASES = {
    "product_id": "product",
    "warehouse_id": "warehouse",
    "counted_quantity": "quantity",
    "delta": "quantity",
    "from_warehouse_id": "from_warehouse",
    "to_warehouse_id": "to_warehouse",
    "non_field_errors": None,
}


def bound(request: HttpRequest) -> Any:
    """A form's data: the POST body on a POST (even an empty one, which is then invalid),
    none on a GET (an unbound form)."""
    return request.POST if request.method == "POST" else None


def apply_error(form: forms.Form, exc: DomainError) -> None:
    """A service's error on the form: each field error under its field (when the form has
    it), everything else at the top of the form, in the service's words."""
    placed = False
    for name, problems in (exc.fields or {}).items():
        field = _FIELD_ALIASES.get(name, name)
        target = field if field in form.fields else None
        for problem in problems:
            message = problem.get("message", "") if isinstance(problem, dict) else str(problem)
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
    if isinstance(form, StyledForm):
        form.mark_errors()


class StyledForm(forms.Form):
    """Bootstrap classes on every widget (one form template renders them all)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_errors()

    def mark_errors(self) -> None:
        """Invalid fields drawn as such and announced (``aria-invalid``, the error's id)."""
        for name in self.errors:
            field = self.fields.get(name)
            if field is None:
                continue
            attrs = field.widget.attrs
            attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"id_{name}_error"


# --- Public pages ----------------------------------------------------------------------


class SignupForm(StyledForm):
    company_name = forms.CharField(label="Company name", max_length=200)
    full_name = forms.CharField(label="Your name", max_length=200, required=False)
    email = forms.EmailField(label="Work email", max_length=254)
    password = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
        help_text="At least 10 characters; not a common password.",
    )


class LoginForm(StyledForm):
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label="Password", max_length=128, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


# --- Catalogue -------------------------------------------------------------------------


class ProductForm(StyledForm):
    sku = forms.CharField(label="SKU", max_length=64)
    name = forms.CharField(max_length=200)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label="No category")
    unit = forms.ChoiceField(choices=Unit.choices, initial=Unit.PIECE)
    barcode = forms.CharField(max_length=64, required=False, help_text="EAN, UPC or your own code.")
    cost_price = PRICE.form_field(initial=0, label="Cost price")
    selling_price = PRICE.form_field(initial=0, label="Selling price")
    reorder_point = QUANTITY.form_field(
        initial=0, label="Reorder point", help_text="Low-stock alert when available stock falls to this."
    )
    reorder_quantity = QUANTITY.form_field(initial=0, label="Reorder quantity")
    lead_time_days = forms.IntegerField(min_value=0, max_value=3650, initial=0, label="Lead time (days)")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args: Any, categories: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if categories is not None:
            self.fields["category"].queryset = categories  # type: ignore[attr-defined]


class WarehouseForm(StyledForm):
    code = forms.CharField(max_length=32, help_text="Short code used on documents, e.g. MAIN.")
    name = forms.CharField(max_length=200)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2_000)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


# --- Categories, suppliers and customers -----------------------------------------------

INDENT = "\u2014 "  # an em dash per level in the category choices


class CategoryChoiceField(forms.ModelChoiceField):
    """Categories in tree order, each indented by its depth."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{INDENT * obj.depth}{obj.name}"


class CategoryForm(StyledForm):
    name = forms.CharField(max_length=CATEGORY_NAME_MAX_LENGTH)
    parent = CategoryChoiceField(
        queryset=Category.objects.none(),
        required=False,
        empty_label="None: a top-level category",
        help_text="Moving a category moves its subcategories with it.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)

    def __init__(self, *args: Any, categories: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if categories is not None:
            self.fields["parent"].queryset = categories  # type: ignore[attr-defined]


class PartyForm(StyledForm):
    """A supplier or a customer (the same fields)."""

    name = forms.CharField(max_length=200)
    contact_name = forms.CharField(max_length=200, required=False, label="Contact name")
    email = forms.EmailField(max_length=254, required=False)
    phone = forms.CharField(max_length=50, required=False)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2_000)
    tax_id = forms.CharField(max_length=50, required=False, label="Tax ID")
    payment_terms = forms.CharField(max_length=100, required=False, label="Payment terms", help_text="e.g. Net 30")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    is_active = forms.BooleanField(
        required=False, initial=True, label="Active", help_text="Inactive ones take no new orders."
    )


class SupplierPriceForm(StyledForm):
    """A product as a supplier sells it. The product is named by SKU or barcode (a list of
    every product would not fit a page); it is chosen once, when the price is added."""

    product = forms.CharField(max_length=64, label="Product", help_text="Our SKU or the barcode.")
    supplier_sku = forms.CharField(max_length=64, required=False, label="Supplier's SKU")
    price = PRICE.form_field(initial=0, label="Price", help_text="The supplier's price per unit.")
    lead_time_days = forms.IntegerField(min_value=0, max_value=3650, initial=0, label="Lead time (days)")

    def __init__(self, *args: Any, with_product: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_product:
            del self.fields["product"]


# --- Imports and exports ---------------------------------------------------------------

IMPORT_SUFFIXES = (".csv", ".txt")


class ImportForm(StyledForm):
    file = forms.FileField(
        label="CSV file",
        max_length=255,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="UTF-8, a header row naming the columns (sku, name, category, unit, prices, stock:<WAREHOUSE>, ...).",
    )
    skip_invalid_rows = forms.BooleanField(
        required=False,
        label="Import the valid rows and skip the invalid ones",
        help_text="Unticked, nothing is imported when any row is invalid.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(IMPORT_SUFFIXES):
            raise forms.ValidationError("Upload a CSV file (a name ending in .csv).")
        return upload


class ExportForm(StyledForm):
    kind = forms.ChoiceField(choices=ExportKind.choices, label="What to export")
    product = forms.CharField(max_length=64, required=False, help_text="Optional: only this product (SKU or barcode).")
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.none(),
        required=False,
        empty_label="All warehouses",
        help_text="Stock levels and movements only.",
    )
    movement_kind = forms.ChoiceField(
        choices=[("", "All kinds"), *MovementKind.choices], required=False, label="Movement kind"
    )
    date_from = forms.DateField(
        required=False, label="Movements from", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        required=False,
        label="Movements until",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Inclusive.",
    )

    def __init__(self, *args: Any, warehouses: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if warehouses is not None:
            self.fields["warehouse"].queryset = warehouses  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("date_from")
        end: date | None = data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end comes before the start.")
        return data


# --- Stock -----------------------------------------------------------------------------


class _StockForm(StyledForm):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label=None)

    def __init__(self, *args: Any, warehouses: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if warehouses is not None:
            self.fields["warehouse"].queryset = warehouses  # type: ignore[attr-defined]


class ReceiveForm(_StockForm):
    quantity = QUANTITY.form_field(min_value=QUANTITY.quantum)
    unit_cost = PRICE.form_field(required=False, label="Unit cost", help_text="Default: the product's cost price.")
    note = forms.CharField(max_length=500, required=False)


class IssueForm(_StockForm):
    quantity = QUANTITY.form_field(min_value=QUANTITY.quantum)
    note = forms.CharField(max_length=500, required=False)


class AdjustForm(_StockForm):
    MODES = (("counted", "Set to a counted quantity"), ("delta", "Change by a quantity"))
    mode = forms.ChoiceField(choices=MODES, initial="counted", widget=forms.RadioSelect)
    quantity = QUANTITY.form_field(
        min_value=-QUANTITY.max_value, help_text="The count, or the change (negative removes)."
    )
    reason = forms.ChoiceField(
        choices=(
            ("count", "Stock count"),
            ("damage", "Damaged"),
            ("loss", "Lost or stolen"),
            ("found", "Found"),
            ("correction", "Correction"),
        )
    )
    note = forms.CharField(max_length=500, required=False)


class TransferForm(StyledForm):
    from_warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label=None, label="From")
    to_warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label=None, label="To")
    quantity = QUANTITY.form_field(min_value=QUANTITY.quantum)
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, warehouses: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if warehouses is not None:
            self.fields["from_warehouse"].queryset = warehouses  # type: ignore[attr-defined]
            self.fields["to_warehouse"].queryset = warehouses  # type: ignore[attr-defined]


# --- Accounts --------------------------------------------------------------------------


class PasswordResetRequestForm(StyledForm):
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class NewPasswordForm(StyledForm):
    new_password = forms.CharField(
        label="New password",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )


class AcceptInvitationForm(StyledForm):
    full_name = forms.CharField(label="Your name", max_length=200, required=False)
    password = forms.CharField(
        label="Choose a password",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )


# --- Settings: members, workspace, profile ----------------------------------------------


def _roles_up_to(highest: Role | str) -> list[tuple[str, str]]:
    """The roles someone of role ``highest`` may give (never above their own), highest first."""
    return [(value, label) for value, label in Role.choices if Role(value).rank <= Role(highest).rank]


class InviteForm(StyledForm):
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.CLERK,
        help_text="Viewer reads; clerk moves stock and handles orders; manager edits the catalogue; "
        "admin manages members and settings.",
    )

    def __init__(self, *args: Any, up_to: Role | str = Role.OWNER, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _roles_up_to(up_to)  # type: ignore[attr-defined]
        self.fields["email"].help_text = (
            f"We email them a link to join, valid for {settings.INVITATION_TTL.days} days. "
            "Inviting the same address again replaces the earlier invitation."
        )


class MemberRoleForm(StyledForm):
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args: Any, up_to: Role | str = Role.OWNER, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _roles_up_to(up_to)  # type: ignore[attr-defined]


class WorkspaceForm(StyledForm):
    name = forms.CharField(label="Workspace name", max_length=200)
    currency = forms.ChoiceField(
        choices=[(code, f"{code} · {name}") for code, name in CURRENCY_CHOICES],
        help_text="Prices, costs and totals are in this currency. It can change only until the workspace "
        "has orders or stock on hand.",
    )


class NumberingForm(StyledForm):
    sales_prefix = forms.RegexField(
        PREFIX_PATTERN,
        max_length=12,
        label="Sales order prefix",
        help_text="1-12 letters or digits, e.g. SO.",
        error_messages={"invalid": PREFIX_MESSAGE},
    )
    purchase_prefix = forms.RegexField(
        PREFIX_PATTERN,
        max_length=12,
        label="Purchase order prefix",
        help_text="1-12 letters or digits, e.g. PO.",
        error_messages={"invalid": PREFIX_MESSAGE},
    )


class ProfileForm(StyledForm):
    full_name = forms.CharField(
        label="Full name", max_length=200, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )


class PasswordChangeForm(StyledForm):
    current_password = forms.CharField(
        label="Current password",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="New password",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password. Your other sessions will be logged out.",
    )


# --- Settings: API keys and the audit log ------------------------------------------------


class ApiKeyForm(StyledForm):
    """A new API key: its name, its scopes (``<group>:read`` / ``<group>:write``, drawn as a
    grid by the page) and the day it expires (the service holds the limits)."""

    name = forms.CharField(
        max_length=100, help_text="What uses it, e.g. Shop sync. Only for you to recognise it in this list."
    )
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in api_key_format.SCOPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one scope."},
    )
    # One id per rendering of the form: a second submission of the same form (a reload of
    # the answer, a double click) is recognised and creates nothing (web.views.api_keys).
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False)
    expires_at = forms.DateField(
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=f"At most {settings.API_KEY_MAX_DAYS} days from today; the key stops working at the start of "
        "that day.",
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["submission"].initial = uuid.uuid4()
        field = self.fields["expires_at"]
        field.initial = today + timedelta(days=settings.API_KEY_DEFAULT_DAYS)
        field.widget.attrs.update(
            {
                "min": (today + timedelta(days=1)).isoformat(),
                "max": (today + timedelta(days=settings.API_KEY_MAX_DAYS)).isoformat(),
            }
        )

    def scope_grid(self) -> list[dict[str, Any]]:
        """One row per scope group with its read and write boxes, ticked as the form was sent."""
        chosen = set(self["scopes"].value() or [])
        return [
            {
                "group": group,
                "boxes": [
                    {"value": f"{group}:{access}", "access": access, "checked": f"{group}:{access}" in chosen}
                    for access in ("read", "write")
                ],
            }
            for group in api_key_format.SCOPE_GROUPS
        ]


class AuditFilterForm(StyledForm):
    """The audit log's filters, as the API's (``GET /api/v1/audit-events/``). A filter that
    does not validate is shown with its error and not applied."""

    type = forms.CharField(
        max_length=64,
        required=False,
        label="Event type",
        widget=forms.TextInput(attrs={"placeholder": "product.updated or product.", "list": "event-types"}),
    )
    subject = forms.CharField(max_length=64, required=False, label="Subject id")
    actor = forms.UUIDField(required=False, label="Who", widget=forms.Select)
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, members: Any = (), keys: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[Any] = [("", "Anyone")]
        people = [(str(m.user_id), m.user.full_name or m.user.email) for m in members]
        if people:
            choices.append(("Members", people))
        machines = [(str(k.pk), f"API key {k.prefix}… ({k.name})") for k in keys]
        if machines:
            choices.append(("API keys", machines))
        sent = str(self.data.get("actor", "")) if self.is_bound else ""
        known = {value for value, _ in people + machines}
        if sent and sent not in known:  # a former member's id, from a link in the log
            choices.append(("Other", [(sent, sent)]))
        self.fields["actor"].widget.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("date_from")
        end: date | None = data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end comes before the start.")
        return data

    def filters(self) -> dict[str, Any]:
        """The fields that validated (an invalid one is left out)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


# --- Settings: webhooks and connectors ---------------------------------------------------

# The event groups' names in the form (the prefix of their types in integrations/event_types.py).
EVENT_GROUP_LABELS = {
    "product": "Products",
    "stock": "Stock",
    "sales_order": "Sales orders",
    "purchase_order": "Purchase orders",
    "member": "Members",
    "webhook_endpoint": "Webhook endpoints",
}


def _event_choices() -> list[tuple[str, str]]:
    choices = [(event_types.WILDCARD, "All events")]
    choices += [(f"{prefix}.*", f"{prefix}.*") for prefix in event_types.PREFIXES]
    choices += [(name, name) for name in event_types.EVENT_TYPES]
    return choices


class WebhookEndpointForm(StyledForm):
    """A webhook endpoint: its URL (the service's SSRF guard has the last word), a
    description, the events it receives (``*``, a group's ``prefix.*``, or single types,
    drawn as grouped boxes by the page) and, on a change, whether it is on."""

    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where Stockroom POSTs each event, e.g. https://example.com/hooks/stockroom. It must be reachable "
        "from the internet.",
    )
    description = forms.CharField(
        max_length=500, required=False, help_text="What receives the events, for you to recognise it."
    )
    events = forms.MultipleChoiceField(
        choices=_event_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event type, or all events."},
    )
    is_active = forms.BooleanField(
        required=False,
        initial=True,
        label="Active",
        help_text="Off: nothing is sent to it. Turning it back on clears its failure streak.",
    )
    # One id per rendering of the create form (as ApiKeyForm's): sending it twice makes one endpoint.
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if creating:
            del self.fields["is_active"]
            self.fields["submission"].initial = uuid.uuid4()
        else:
            del self.fields["submission"]

    def clean_events(self) -> list[str]:
        """``*`` alone when chosen; a type left out when its group's ``prefix.*`` is chosen."""
        chosen: list[str] = list(self.cleaned_data.get("events") or [])
        if event_types.WILDCARD in chosen:
            return [event_types.WILDCARD]
        groups = {value[:-2] for value in chosen if value.endswith(".*")}
        return [value for value in chosen if value.endswith(".*") or value.split(".", 1)[0] not in groups]

    def event_groups(self) -> list[dict[str, Any]]:
        """One group per prefix: its ``prefix.*`` box and one box per type, ticked as sent
        (or as the endpoint has them)."""
        chosen = set(self["events"].value() or [])
        groups = []
        for prefix in dict.fromkeys(name.split(".", 1)[0] for name in event_types.EVENT_TYPES):  # the table's order
            wildcard = f"{prefix}.*"
            groups.append(
                {
                    "prefix": prefix,
                    "label": EVENT_GROUP_LABELS.get(prefix, prefix.replace("_", " ").capitalize()),
                    "wildcard": {"value": wildcard, "checked": wildcard in chosen},
                    "types": [
                        {"value": name, "checked": name in chosen}
                        for name in event_types.EVENT_TYPES
                        if name.split(".", 1)[0] == prefix
                    ],
                }
            )
        return groups

    def all_events(self) -> bool:
        return event_types.WILDCARD in set(self["events"].value() or [])


class WebhookRecoverForm(StyledForm):
    """Send again the endpoint's failed messages made since a moment (the user's time zone)."""

    since = forms.DateTimeField(
        label="Failed since",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )


class ConnectorForm(StyledForm):
    """A Shopify connector. The shared secret is write-only: required on creation; left
    empty on a change, the connector keeps the one it has."""

    kind = forms.ChoiceField(choices=ConnectorKind.choices, initial=ConnectorKind.SHOPIFY, label="Kind")
    name = forms.CharField(max_length=100, help_text="e.g. Online shop. Only for you to recognise it.")
    shop_domain = forms.CharField(
        max_length=255, label="Shop domain", help_text="The shop's myshopify.com address, e.g. acme.myshopify.com."
    )
    shared_secret = forms.CharField(
        max_length=255,
        label="Shared secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text='The key Shopify shows under Settings > Notifications > Webhooks ("Your webhooks will be signed '
        'with ..."). Never shown again.',
    )
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.none(), empty_label=None, help_text="The shop's orders are taken from it."
    )
    auto_confirm = forms.BooleanField(required=False, label="Confirm each order as it arrives (reserves its stock)")
    is_active = forms.BooleanField(
        required=False,
        initial=True,
        label="Active",
        help_text="Paused, each order that arrives is kept as an error entry to retry later.",
    )

    def __init__(self, *args: Any, warehouses: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouses  # type: ignore[attr-defined]
        if not creating:
            secret = self.fields["shared_secret"]
            secret.required = False
            secret.help_text = "Leave it empty to keep the current secret; type a new one to replace it."

    def clean_shop_domain(self) -> str:
        domain = str(self.cleaned_data["shop_domain"]).strip().lower()
        if not re.fullmatch(SHOP_DOMAIN_PATTERN, domain):
            raise forms.ValidationError("Enter the shop's myshopify.com address, e.g. acme.myshopify.com.")
        return domain
