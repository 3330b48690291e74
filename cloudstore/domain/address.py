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

# The original Cloud Store client (the spec's) names the saved address flat, with an
# `address_` prefix: {phone, address_street, address_city, address_state,
# address_postal_code}. The API accepts those names beside ours and shows both.
SPEC_NAMES = {
    "address_street": "address",
    "address_city": "city",
    "address_state": "state",
    "address_postal_code": "postal_code",
}
OUR_NAMES = ("name", "phone", "address", "city", "state", "postal_code")


def _given(value: object) -> bool:
    """A value the client really sent: an empty (or all-space) string means absent, as a
    form field left empty does."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def address_fields(body: object) -> object:
    """A profile address in our names from any of the shapes clients send: ours (`address`
    the street line), ours nested (`address` an object, as the API shows it), or the
    spec's flat `address_*` names. Flat names win over nested ones; empty strings are
    dropped. Anything that is not an object is returned as is (the model refuses it)."""
    if not isinstance(body, dict):
        return body
    fields = {key: value for key, value in body.items() if _given(value)}
    nested = fields.get("address")
    if isinstance(nested, dict):
        del fields["address"]
        for name in OUR_NAMES:
            if name not in fields and _given(nested.get(name)):
                fields[name] = nested[name]
    for spec_name, ours in SPEC_NAMES.items():
        if spec_name in fields:
            fields[ours] = fields.pop(spec_name)
    return fields


def spec_view(address: dict[str, str] | None) -> dict[str, str | None]:
    """The saved address in the spec client's flat names (None when there is none)."""
    source = address or {}
    return {spec: source.get(ours) or None for spec, ours in SPEC_NAMES.items()}
