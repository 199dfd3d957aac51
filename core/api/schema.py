"""OpenAPI generation: every operation documents the one error shape."""

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


class ErrorFieldItemSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable machine-readable code of this field error.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(
        help_text=(
            "Stable machine-readable code: validation_error, parse_error, invalid_parameter, "
            "invalid_cursor, not_authenticated, token_not_valid, membership_revoked, tenant_suspended, "
            "permission_denied, role_required, not_found, page_not_found, method_not_allowed, conflict, "
            "request_too_large, unsupported_media_type, throttled, too_many_attempts, server_error, "
            "or a domain code such as insufficient_stock."
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
    "or a domain code.",
    "401": "Missing, invalid or revoked credentials (also when a bad token is sent to a public operation).",
    "403": "Authenticated, but the role or tenant does not allow this.",
    "404": "No such object in the current tenant, or (`page_not_found`) a page past the end of a list.",
    "409": "Conflicts with the current state (domain code such as `invalid_transition`).",
    "413": "`request_too_large`: the body is over the size limit.",
    "415": "`unsupported_media_type`: the body is not of a media type this operation reads.",
    "429": "Too many requests; see `details.retry_after`.",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_BODIES = {"POST", "PUT", "PATCH"}


class AutoSchema(SpectacularAutoSchema):
    """Documents what every operation can answer besides its success: the error shape for
    400/401/403/429 everywhere, 404 on objects and paginated lists, 409 on writes, 413/415 on
    bodies; and that an empty query parameter counts as absent (``allowEmptyValue``)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("in") == "query":
                parameter["allowEmptyValue"] = True
        return operation

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
        if "{" in self.path or self._is_paginated_list():
            codes.append("404")
        if self.method in _WRITES:
            codes.append("409")
        if self.method in _BODIES:
            codes += ["413", "415"]
        for code in sorted(codes):
            responses.setdefault(
                code,
                {"content": {"application/json": {"schema": error}}, "description": _DESCRIPTIONS[code]},
            )
        return responses
