"""OpenAPI generation: every operation documents the one error shape."""

from decimal import Decimal
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from core.api import idempotency


class ErrorFieldItemSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable machine-readable code of this field error.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(
        help_text=(
            "Stable machine-readable code: validation_error, parse_error, invalid_parameter, "
            "invalid_cursor, not_authenticated, token_not_valid, membership_revoked, api_key_not_valid, "
            "api_key_revoked, api_key_expired, tenant_suspended, permission_denied, role_required, "
            "scope_required, members_only, not_found, page_not_found, method_not_allowed, conflict, "
            "request_too_large, unsupported_media_type, throttled, too_many_attempts, server_error, "
            "invalid_idempotency_key, request_in_progress (409), idempotency_key_reused (422), "
            "database_unavailable (503), or a domain code such as insufficient_stock."
        )
    )
    message = serializers.CharField(help_text="Human-readable message.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=ErrorFieldItemSerializer()),
        help_text="Field errors by dotted path (e.g. `lines.0.quantity`); empty when none.",
    )
    details = serializers.DictField(help_text="Error-specific data (e.g. `retry_after`); empty when none.")
    request_id = serializers.CharField(allow_null=True, help_text="Also sent as the X-Request-ID header.")

    class Meta:
        ref_name = "Error"


_DESCRIPTIONS = {
    "400": "Invalid input: `validation_error` (body), `parse_error` (malformed, too deeply nested or "
    "not UTF-8 JSON), `invalid_parameter` (query parameter, named in `fields`), `invalid_cursor`, "
    "`invalid_idempotency_key`, or a domain code.",
    "401": "Missing, invalid or revoked credentials (also when a bad token is sent to a public operation).",
    "403": "Authenticated, but the role, the API key's scopes or the tenant do not allow this.",
    "404": "No such object in the current tenant, or (`page_not_found`) a page past the end of a list.",
    "409": "Conflicts with the current state (domain code such as `invalid_transition`).",
    "413": "`request_too_large`: the body is over the size limit.",
    "415": "`unsupported_media_type`: the body is not of a media type this operation reads.",
    "422": "`idempotency_key_reused`: this `Idempotency-Key` was used for a different request "
    "(another body, query string or user).",
    "429": "Too many requests; see `details.retry_after`.",
}
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.MAX_KEY_LENGTH,
        "pattern": idempotency.KEY_PATTERN,
    },
    "description": (
        'Makes a retry safe (docs/api.md, "Safe retries"): a retry with the same key and body within '
        "24 hours gets the first success back, with `Idempotent-Replayed: true`, and writes nothing."
    ),
}
# Text the API refuses although it is a JSON string: NUL characters (PostgreSQL cannot store
# them) and, where a value is required, nothing but whitespace (it is trimmed to blank).
NO_NUL = "^[^\\x00]*$"
NOT_BLANK = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
# URLs Django's URLValidator takes for sure: http(s), a host name of plain labels, a simple path.
URL_PATTERN = "^https?://(?:[a-z0-9]{1,63}\\.){1,4}[a-z]{2,63}(?:/[A-Za-z0-9._~/-]*)?$"
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_BODIES = {"POST", "PUT", "PATCH"}


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimal strings ``field`` accepts, as a regex: digits within max_digits/decimal_places,
    a sign only where negatives are allowed, and, where the bounds allow it, min_value > 0 (a
    non-zero digit) and a max_value that is a power of ten (e.g. 100 for percents)."""
    whole_digits, places = field.max_whole_digits, field.decimal_places
    whole = r"\d+" if whole_digits is None else rf"\d{{1,{whole_digits}}}" if whole_digits else "0"
    fraction = r"\d*" if places is None else rf"\d{{0,{places}}}"
    number = rf"{whole}(?:\.{fraction})?"
    if places != 0:
        number += r"|\.\d+" if places is None else rf"|\.\d{{1,{places}}}"
    low, high = field.min_value, field.max_value
    power = len(str(int(high))) - 1 if high is not None and high >= 1 else -1
    if whole_digits and 0 <= power < whole_digits and high == 10**power:
        number = rf"1{'0' * power}(?:\.0{{0,{places}}})?|\d{{1,{power}}}(?:\.{fraction})?|\.\d{{1,{places}}}"
    sign = "-?" if low is None or low < 0 else ""
    if low is not None and low > 0 and whole_digits and places and low <= Decimal(10) ** -places:
        # At least one non-zero digit, spelled out (a look-ahead makes generators filter too much);
        # leading zeros are not digits to DRF, trailing ones are.
        fractions = "|".join(rf"0{{{zeros}}}[1-9]\d{{0,{places - 1 - zeros}}}" for zeros in range(places))
        number = rf"0*[1-9]\d{{0,{whole_digits - 1}}}(?:\.{fraction})?|0*\.(?:{fractions})"
    return rf"^{sign}(?:{number})$"


def _constrain_text(schema: dict[str, Any], pattern: str) -> None:
    """Plain text (no format, enum or pattern of its own) gets the pattern of what is refused."""
    if schema.get("type") == "string" and not {"format", "enum", "pattern", "oneOf"} & set(schema):
        schema["pattern"] = pattern


class AutoSchema(SpectacularAutoSchema):
    """Documents what every operation can answer besides its success: the error shape for
    400/401/403/429 everywhere, 404 on objects and paginated lists, 409 on writes, 413/415 on
    bodies, 422 and the ``Idempotency-Key`` header on the writes that take it; and that an
    empty query parameter counts as absent (``allowEmptyValue``)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        if operation:
            self._key_scope_note(operation)
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("in") == "query":
                parameter["allowEmptyValue"] = True
                _constrain_text(parameter.get("schema", {}), NO_NUL)
        if operation and self._takes_idempotency_key():
            operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY_PARAMETER))
        return operation

    def get_auth(self) -> Any:
        """API keys (``apiKeyAuth``) only where the view names a scope group: the others are
        for members only (``tenants.permissions``). The scope is given in the description."""
        auths = super().get_auth()
        if getattr(self.view, "scope_group", None) is None:
            return [auth for auth in auths if "apiKeyAuth" not in auth]
        return auths

    def _key_scope_note(self, operation: dict[str, Any]) -> None:
        group = getattr(self.view, "scope_group", None)
        if group is None:
            return
        action = getattr(self.view, "action", None)
        access = getattr(self.view, "action_scopes", {}).get(action) if action else None
        access = access or ("read" if self.method in ("GET", "HEAD", "OPTIONS") else "write")
        scope = f"API key scope: `{group}:{access}`."
        description = operation.get("description")
        operation["description"] = f"{description}\n\n{scope}" if description else scope

    def _takes_idempotency_key(self) -> bool:
        """Writes of the API that a member makes (not sign-up, login and tokens): docs/api.md, "Safe retries"."""
        return idempotency.applies_to(self.method, self.path)

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(field)
        if direction == "request" and isinstance(field, serializers.URLField):
            schema["pattern"] = URL_PATTERN
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            for key, limit in (("minItems", "min_length"), ("maxItems", "max_length")):
                if getattr(field, limit, None) is not None:
                    schema[key] = getattr(field, limit)
        if direction == "request" and isinstance(field, serializers.CharField) and isinstance(schema, dict):
            blank_allowed = field.allow_blank or not getattr(field, "trim_whitespace", False)
            # Applied after drf-spectacular's own validators (which would wrap a pattern in a oneOf).
            self._text_patterns = {
                **getattr(self, "_text_patterns", {}),
                id(schema): NO_NUL if blank_allowed else NOT_BLANK,
            }
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        pattern = getattr(self, "_text_patterns", {}).pop(id(schema), None)
        if pattern:
            _constrain_text(schema, pattern)

    def _refers_by_query(self) -> bool:
        """An operation that looks an object up by an id in its query (``?warehouse=``) answers 404."""
        return not self._is_list_view() and any(
            parameter.get("in") == "query" and parameter.get("schema", {}).get("format") == "uuid"
            for parameter in self._get_parameters()
        )

    def _is_paginated_list(self) -> bool:
        if self.method != "GET":
            return False
        if self._is_list_view():
            return getattr(self.view, "pagination_class", None) is not None
        action = getattr(self.view, "action", None)
        handler = getattr(self.view, action, None) if action else None
        return bool(getattr(handler, "kwargs", {}).get("pagination_class"))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction=direction)
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        codes = ["400", "401", "403", "429"]
        if "{" in self.path or self._is_paginated_list() or self._refers_by_query():
            codes.append("404")
        if self.method in _WRITES:
            codes.append("409")
        if self._takes_idempotency_key():
            codes.append("422")
        if self.method in _BODIES:
            codes += ["413", "415"]
        for code in sorted(codes):
            responses.setdefault(
                code,
                {"content": {"application/json": {"schema": error}}, "description": _DESCRIPTIONS[code]},
            )
        return responses
