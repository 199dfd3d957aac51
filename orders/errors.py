"""Error codes of the orders module (top-level ``code`` of an error, or a field error's ``code``).

The state machine's ``InvalidTransition`` lives in orders/states.py; stock errors
(``insufficient_stock``, ``reservation_mismatch``, ``inactive``) are inventory's.
"""

from __future__ import annotations

# 409
INVALID_TRANSITION = "invalid_transition"
DUPLICATE_EXTERNAL_REFERENCE = "duplicate_external_reference"
CONFLICT = "conflict"
# 403
ROLE_REQUIRED = "role_required"
# 400 field codes
REQUIRED = "required"
INACTIVE = "inactive"
DOES_NOT_EXIST = "does_not_exist"
DUPLICATE = "duplicate"
MIN_VALUE = "min_value"
MORE_THAN_OUTSTANDING = "more_than_outstanding"
MORE_THAN_SHIPPED = "more_than_shipped"
MORE_THAN_RECEIVED = "more_than_received"
OVER_RECEIPT = "over_receipt"
