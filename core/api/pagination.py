"""The two paginations every list uses: page numbers, and a cursor for ledgers."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """?page=N&page_size=M; the page size is capped so no list is unbounded."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class NewestFirstCursorPagination(pagination.CursorPagination):
    """For ledgers: stable under inserts, constant cost at any depth."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
