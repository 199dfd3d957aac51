"""Errors of the HTTP layer itself (query strings, cursors, body size), in the one error shape."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, status
from rest_framework.request import Request

from core.errors import DomainError

INVALID_PARAMETER = "invalid_parameter"
INVALID_CURSOR = "invalid_cursor"
PAGE_NOT_FOUND = "page_not_found"
REQUEST_TOO_LARGE = "request_too_large"


class InvalidParameter(DomainError):
    """A query parameter with a value the endpoint does not accept; ``fields`` names it."""

    status_code = 400
    code = INVALID_PARAMETER
    default_message = "Invalid query parameter."

    @classmethod
    def for_parameter(cls, name: str, message: str, *, code: str = "invalid") -> InvalidParameter:
        return cls(f"Invalid query parameter `{name}`: {message}", fields={name: [{"code": code, "message": message}]})


class InvalidCursor(DomainError):
    status_code = 400
    code = INVALID_CURSOR
    default_message = "The cursor is not one this list handed out."


class PageNotFound(DomainError):
    status_code = 404
    code = PAGE_NOT_FOUND
    default_message = "There is no such page: the list has fewer pages."


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = REQUEST_TOO_LARGE


def raw_body(request: Request) -> bytes:
    """The request's body as sent (a signed webhook verifies these bytes), or 413
    ``request_too_large`` past ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    try:
        return request.body
    except RequestDataTooBig as exc:
        raise RequestTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.") from exc
