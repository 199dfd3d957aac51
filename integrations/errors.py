"""Error codes of the integrations module (top-level ``code`` of an error, or a field error's ``code``)."""

from __future__ import annotations

# 400 field codes
WEBHOOK_URL_REFUSED = "webhook_url_refused"  # the SSRF guard (integrations/ssrf.py): details name the reason
INVALID_EVENT_TYPE = "invalid_event_type"
# 409
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"  # a test message to a disabled endpoint
