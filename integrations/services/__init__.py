"""Writes of the integrations app: webhook endpoints (``endpoints``) and the delivery of
their messages (``delivery``)."""
