"""Deliberately broken views, to prove the cross-tenant harness catches them.
Used only by test_cross_tenant.py through override_settings(ROOT_URLCONF=...)."""

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.api.serializers import MemberSerializer, UserSerializer
from tenants.models import Membership, User
from tenants.tests.isolation_app.models import Widget


class LeakyUserList(generics.ListAPIView):
    """Forgets to filter a global table (users: no tenant_id, no RLS) by tenant."""

    serializer_class = UserSerializer

    def get_queryset(self) -> Any:
        return User.objects.order_by("pk")


class LeakyUserDetail(APIView):
    """Fetches and changes by id alone."""

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request, id: Any) -> Response:
        return Response(UserSerializer(User.objects.get(pk=id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, id: Any) -> Response:
        User.objects.filter(pk=id).update(full_name="hijacked")
        return Response(status=204)


class UnscopedMemberList(generics.ListAPIView):
    """Forgets to filter memberships by tenant: Row Level Security does (the current
    tenant's rows, and the user's own)."""

    serializer_class = MemberSerializer

    def get_queryset(self) -> Any:
        return Membership.objects.select_related("user").order_by("pk")


class UnscopedMemberDetail(APIView):
    """Fetches and deletes memberships by id alone: Row Level Security stops it."""

    @extend_schema(responses=MemberSerializer)
    def get(self, request: Request, id: Any) -> Response:
        return Response(MemberSerializer(Membership.objects.get(pk=id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, id: Any) -> Response:
        Membership.objects.get(pk=id).delete()
        return Response(status=204)


class UnscopedWidgetList(APIView):
    """Uses the unscoped manager: the ORM does not filter, Row Level Security does."""

    @extend_schema(responses={200: None})
    def get(self, request: Request) -> Response:
        return Response([str(w.pk) for w in Widget.unscoped.all()])


leaky_urlpatterns = [
    path("api/v1/leaky/users/", LeakyUserList.as_view()),
    path("api/v1/leaky/users/<uuid:id>/", LeakyUserDetail.as_view()),
]
rls_contained_urlpatterns = [path("api/v1/unscoped/widgets/", UnscopedWidgetList.as_view())]
rls_contained_member_urlpatterns = [
    path("api/v1/unscoped/members/", UnscopedMemberList.as_view()),
    path("api/v1/unscoped/members/<uuid:id>/", UnscopedMemberDetail.as_view()),
]
urlpatterns = leaky_urlpatterns + rls_contained_urlpatterns + rls_contained_member_urlpatterns
