import uuid

from django.db import models

from tenants.fields import TenantForeignKey
from tenants.scoping import TenantScopedModel


class Widget(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="widget_unique_name")]


class WidgetPart(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    widget = TenantForeignKey(Widget, on_delete=models.CASCADE, related_name="parts")
    label = models.CharField(max_length=100)
