"""What a shipping address field may hold: one rule for the API and the pages."""

from __future__ import annotations

import re

REQUIRED_ADDRESS_FIELDS = ("name", "phone", "address", "city", "postal_code")
# Start and end on a non-space: input is stripped before it is checked.
PHONE_PATTERN = r"^\+?[0-9(][0-9 ()\-]{4,18}[0-9)]$"
POSTAL_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,8}[A-Za-z0-9]$"
PHONE = re.compile(PHONE_PATTERN)
POSTAL_CODE = re.compile(POSTAL_CODE_PATTERN)
# The most characters each field may hold (the API's models and the pages' forms agree).
FIELD_LIMITS = {
    "name": 255,
    "phone": 20,
    "address": 500,
    "city": 120,
    "state": 120,
    "postal_code": 10,
}
