"""Domain errors: raised by services, turned into the one error shape by
``core.api.exception_handler.exception_handler``. Each has a stable ``code``."""

from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400
    code = "error"
    default_message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        fields: dict[str, list[dict[str, str]]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details or {}
        self.fields = fields or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Input that breaks a business rule, attributed to fields where possible."""

    status_code = 400
    code = "validation_error"
    default_message = "Invalid input."

    @classmethod
    def for_field(cls, field: str, code: str, message: str) -> "ValidationFailed":
        return cls(message, fields={field: [{"code": code, "message": message}]})


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class PermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state of the resource."


class PaymentRequired(DomainError):
    """402: the workspace's plan does not allow this much (``plan_limit_reached``)."""

    status_code = 402
    code = "payment_required"
    default_message = "Your plan does not allow this."


class AuthenticationError(DomainError):
    status_code = 401
    code = "authentication_failed"
    default_message = "Authentication failed."


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
    default_message = "Too many attempts. Try again later."


class TenantRequired(DomainError):
    """Tenant-scoped data was touched with no tenant in context. Fails closed."""

    status_code = 403
    code = "tenant_required"
    default_message = "No tenant is selected for this operation."


class CrossTenantWrite(DomainError):
    """A row of one tenant was about to be written under another tenant's context."""

    status_code = 403
    code = "cross_tenant_write"
    default_message = "This object belongs to another tenant."


class AmountTooLarge(ValidationFailed):
    """An amount computed from valid input (quantity x price, an order's total) that
    would not fit its column (``core.numbers.AMOUNT``)."""

    code = "amount_too_large"
    default_message = "An amount is larger than the largest amount that can be stored."


class DatabaseUnavailable(DomainError):
    """The database could not be reached, or the connection died mid-request. Retry later."""

    status_code = 503
    code = "database_unavailable"
    default_message = "The service is temporarily unavailable (database). Try again shortly."
