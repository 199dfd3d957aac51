"""Error codes of the integrations app (top-level ``code`` of an error, a field error's
``code``, or the ``code`` of a connector error entry)."""

from __future__ import annotations

# 401: the Shopify webhook's signature
SIGNATURE_MISSING = "signature_missing"
SIGNATURE_INVALID = "signature_invalid"
# 400
TOPIC_MISSING = "topic_missing"
INVALID_WEBHOOK_ID = "invalid_webhook_id"
# 409
ERROR_RESOLVED = "connector_error_resolved"
# 400 field codes
UNIQUE = "unique"
INVALID = "invalid"
INACTIVE = "inactive"

# Connector error entries (a delivery kept because it could not become a sales order)
INVALID_PAYLOAD = "invalid_payload"  # not UTF-8 JSON, or not an object
INVALID_ORDER_ID = "invalid_order_id"  # no usable `id`
NO_LINES = "no_lines"
INVALID_LINE = "invalid_line"  # a quantity or price Stockroom cannot take, or too many lines
MISSING_SKU = "missing_sku"
UNKNOWN_SKU = "unknown_sku"
MISSING_EMAIL = "missing_email"
INVALID_EMAIL = "invalid_email"
CURRENCY_MISMATCH = "currency_mismatch"
CONNECTOR_INACTIVE = "connector_inactive"
# Besides these, an entry may carry the code of the order services' refusal:
# insufficient_stock (auto_confirm), inactive (an archived product, an inactive warehouse
# or customer), amount_too_large, fractional_quantity, duplicate_external_reference.

# Webhooks: 400 field codes
WEBHOOK_URL_REFUSED = "webhook_url_refused"  # the SSRF guard (integrations/ssrf.py): details name the reason
INVALID_EVENT_TYPE = "invalid_event_type"
# 409
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"  # a test message to a disabled endpoint

# Event store
EVENT_STORE_UNAVAILABLE = "event_store_unavailable"  # 503: MongoDB could not be reached
