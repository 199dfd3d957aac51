"""Error codes of the integrations app."""

EVENT_STORE_UNAVAILABLE = "event_store_unavailable"  # 503: MongoDB could not be reached
