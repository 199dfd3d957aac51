"""One error shape for every response that is not a success.

    {"code": "validation_error", "message": "Invalid input.",
     "fields": {"email": [{"code": "invalid", "message": "Enter a valid email address."}]},
     "details": {}, "request_id": "3f2c..."}

``code`` is stable and machine-readable; ``message`` is for humans and follows one
rule (``summary_message``): with field errors it is the first one's message,
prefixed by its path; without, the error's own message. ``fields`` maps dotted field
paths (``lines.0.quantity``) to their errors; ``details`` carries error-specific data
(``retry_after``, ``available``...). Documented in docs/api.md and as the
``Error`` component of the OpenAPI schema.
"""

import logging
import math
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.api.errors import RequestTooLarge
from core.db import is_database_unavailable
from core.errors import DatabaseUnavailable, DomainError
from core.logging import request_id_var

logger = logging.getLogger("stockroom.errors")

_STATUS_CODES = {
    status.HTTP_400_BAD_REQUEST: "bad_request",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "request_too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "server_error",
}


def summary_message(message: str, fields: dict[str, list[dict[str, str]]] | None) -> str:
    """The one rule for the top-level ``message``: the first field error's message,
    prefixed by its dotted path (``email: Enter a valid email address.``; an error about
    the whole body, ``non_field_errors``, has no prefix); ``message`` when there are none."""
    for path, errors in (fields or {}).items():
        if errors:
            first = errors[0]["message"]
            return first if path == "non_field_errors" else f"{path}: {first}"
    return message


def error_body(
    code: str,
    message: str,
    *,
    fields: dict[str, list[dict[str, str]]] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "message": summary_message(message, fields),
        "fields": fields or {},
        "details": details or {},
        "request_id": request_id_var.get(),
    }


def flatten_errors(detail: Any, path: str = "") -> dict[str, list[dict[str, str]]]:
    """Turn DRF's nested ValidationError detail into {"a.0.b": [{"code", "message"}]}."""
    out: dict[str, list[dict[str, str]]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            for sub, errors in flatten_errors(value, f"{path}.{key}" if path else str(key)).items():
                out.setdefault(sub, []).extend(errors)
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            key = path or "non_field_errors"
            out[key] = [{"code": str(item.code), "message": str(item)} for item in detail]
        else:
            for index, value in enumerate(detail):
                if value:
                    for sub, errors in flatten_errors(value, f"{path}.{index}" if path else str(index)).items():
                        out.setdefault(sub, []).extend(errors)
    elif isinstance(detail, exceptions.ErrorDetail):
        out[path or "non_field_errors"] = [{"code": str(detail.code), "message": str(detail)}]
    elif detail is not None:
        out[path or "non_field_errors"] = [{"code": "invalid", "message": str(detail)}]
    return out


def _api_exception_body(exc: exceptions.APIException) -> tuple[dict[str, Any], int]:
    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        return error_body("validation_error", "Invalid input.", fields=fields), status_code
    detail: Any = exc.detail
    code = _STATUS_CODES.get(status_code, "error")
    message = str(exc.default_detail)
    details: dict[str, Any] = {}
    if isinstance(detail, exceptions.ErrorDetail):
        message = str(detail)
        if detail.code and detail.code not in {"error", "invalid"}:
            code = str(detail.code)
    elif isinstance(detail, dict):
        # simplejwt: {"detail": ..., "code": ..., "messages": [...]}
        message = str(detail.get("detail", message))
        code = str(detail.get("code", code))
    elif isinstance(detail, list) and detail:
        message = str(detail[0])
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
        wait = getattr(exc, "wait", None)
        if wait is not None:
            details["retry_after"] = math.ceil(wait)
    if isinstance(exc, exceptions.NotAuthenticated):
        code = "not_authenticated"
    if isinstance(exc, exceptions.ParseError):
        code = "parse_error"
    return error_body(code, message, details=details), status_code


def _database_unavailable(exc: BaseException) -> DatabaseUnavailable:
    logger.warning("database unavailable: answered 503", exc_info=exc, extra={"dependency": "database"})
    return DatabaseUnavailable()


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes the error shape; never raises."""
    headers: dict[str, str] = {}
    if is_database_unavailable(exc):
        exc = _database_unavailable(exc)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        # Django's own limits (DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FIELDS/FILES).
        exc = RequestTooLarge(str(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, fields=exc.fields, details=exc.details)
        status_code = exc.status_code
        if "retry_after" in exc.details:
            headers["Retry-After"] = str(exc.details["retry_after"])
    elif isinstance(exc, exceptions.APIException):
        body, status_code = _api_exception_body(exc)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if "retry_after" in body["details"]:
            headers["Retry-After"] = str(body["details"]["retry_after"])
    elif isinstance(exc, IntegrityError):
        logger.warning("integrity error turned into 409", exc_info=exc)
        body = error_body("conflict", "The request conflicts with existing data.")
        status_code = status.HTTP_409_CONFLICT
    elif isinstance(exc, DataError):
        logger.warning("data error turned into 400", exc_info=exc)
        body = error_body("invalid_value", "A value is out of range or malformed.")
        status_code = status.HTTP_400_BAD_REQUEST
    else:
        logger.error("unhandled error", exc_info=exc)
        body = error_body("server_error", "A server error occurred. It has been logged.")
        status_code = status.HTTP_500_INTERNAL_SERVER_ERROR

    view = context.get("view")
    dispatch = getattr(view, "dispatch", None)
    if DEFAULT_DB_ALIAS not in getattr(dispatch, "_non_atomic_requests", set()) or getattr(
        view, "in_request_transaction", False
    ):
        # The request's transaction (ATOMIC_REQUESTS, or the one a view opens for its writes)
        # must not commit half a change. Views that manage their own transactions
        # (non_atomic_requests) have rolled back already.
        set_rollback()
    return Response(body, status=status_code, headers=headers)


def json_404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def _error_response(exc: DomainError) -> JsonResponse:
    return JsonResponse(error_body(exc.code, exc.message, details=exc.details), status=exc.status_code)


def json_500(request: HttpRequest) -> JsonResponse:
    """handler500: what Django answers to an exception outside DRF (middleware, the request's
    transaction). Called while the exception is being handled."""
    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        return _error_response(DatabaseUnavailable())
    return JsonResponse(error_body("server_error", "A server error occurred. It has been logged."), status=500)


class DatabaseUnavailableMiddleware:
    """A lost database outside DRF's handler, e.g. the commit of the request's transaction
    (ATOMIC_REQUESTS wraps the view), becomes 503 ``database_unavailable`` in the error shape,
    with DEBUG on too (Django would render its HTML debug page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return _error_response(_database_unavailable(exception))
        return None


def json_400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        # Raised where Django reads the body outside DRF (request.body, request.POST).
        return JsonResponse(error_body("request_too_large", str(exception)), status=413)
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def json_403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("permission_denied", "Permission denied."), status=403)
