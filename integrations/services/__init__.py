"""Writes of the integrations app: webhook endpoints (``endpoints``), the delivery of
their messages (``delivery``) and connectors with the orders they take in (``connectors``)."""
