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
            "Stable machine-readable code: validation_error, parse_error, not_authenticated, "
            "token_not_valid, membership_revoked, tenant_suspended, permission_denied, "
            "role_required, not_found, method_not_allowed, conflict, throttled, "
            "too_many_attempts, server_error, database_unavailable (503), or a domain code "
            "such as insufficient_stock."
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
    "400": "Invalid input (`validation_error`, `parse_error`, or a domain code).",
    "401": "Missing, invalid or revoked credentials.",
    "403": "Authenticated, but the role or tenant does not allow this.",
    "404": "No such object in the current tenant.",
    "409": "Conflicts with the current state (domain code such as `invalid_transition`).",
    "429": "Too many requests; see `details.retry_after`.",
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction=direction)
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        codes = ["400", "429"]
        if self.get_auth():
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            codes.append("409")
        for code in codes:
            responses.setdefault(
                code,
                {"content": {"application/json": {"schema": error}}, "description": _DESCRIPTIONS[code]},
            )
        return responses
