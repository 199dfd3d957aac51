"""What a workspace's plan allows: the one check every gated feature goes through.

``feature_enabled(tenant_id, feature)`` answers for API keys, webhooks, connectors,
exports, forecasting and the audit log. Until billing (issue 12) fills in the plan
catalogue every feature is on; callers already go through this function, so gating a
feature later changes this module only. ``require_feature`` raises the 403
``feature_not_in_plan`` that a request for a feature off the plan gets.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from core.errors import PermissionDenied
from tenants import errors


class Feature(StrEnum):
    API_KEYS = "api_keys"
    WEBHOOKS = "webhooks"
    CONNECTORS = "connectors"
    EXPORTS = "exports"
    FORECASTING = "forecasting"
    AUDIT_LOG = "audit_log"


def feature_enabled(tenant_id: uuid.UUID, feature: Feature) -> bool:
    """Whether the workspace's plan includes ``feature`` (every feature, until billing)."""
    return True


def require_feature(tenant_id: uuid.UUID, feature: Feature) -> None:
    """Raises 403 ``feature_not_in_plan`` when the workspace's plan lacks ``feature``."""
    if not feature_enabled(tenant_id, feature):
        raise PermissionDenied(
            f"Your plan does not include {feature.value.replace('_', ' ')}.",
            code=errors.FEATURE_NOT_IN_PLAN,
            details={"feature": feature.value},
        )
