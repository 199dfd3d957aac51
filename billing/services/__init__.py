"""Billing's services: the Stripe customer and the Checkout and Portal sessions
(``accounts``), the webhook and its events (``webhooks``), the subscription state applied
to the workspace (``subscriptions``), usage reporting (``usage``)."""
