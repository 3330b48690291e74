"""What to send, in words for a person: one predicate per input field with a format.

The API says `"<field> <predicate>"` (`phone must be a phone number, e.g. 0812 3456 7890`);
the pages say the same predicate after the field's label (`Phone must be ...`). Messages
never show a pattern or a validator's own wording.
"""

from __future__ import annotations

from cloudstore.domain.cart import MAX_QUANTITY

FORMATS = {
    "phone": "must be a phone number, e.g. 0812 3456 7890 or +62 812 3456 7890",
    "postal_code": "must be a postal code of 3 to 10 letters or digits, e.g. 10220",
    "email": "must be an email address, e.g. nama@example.com",
    "image_url": "must be an https:// address or a path under /static/",
    "price": "must be a whole number of rupiah, e.g. 650000",
    "total_amount": "must be the order total in rupiah, e.g. 721500",
    # A cart line's quantity (the API's `items[].quantity`, the pages' quantity fields, and
    # the script that explains a quantity as it is typed).
    "quantity": f"must be a whole number from 1 to {MAX_QUANTITY}",
}
LABELS = {"postal_code": "Postal code", "image_url": "Image URL", "address": "Street address"}


def label(field: str) -> str:
    """The field's name as the pages show it."""
    return LABELS.get(field, field.replace("_", " ").capitalize())


def api_message(field: str, predicate: str) -> str:
    return f"{field} {predicate}"


def page_message(field: str, predicate: str) -> str:
    return f"{label(field)} {predicate}."


def required(field: str) -> str:
    """The predicate for a field left out or empty (with its format, when it has one)."""
    known = FORMATS.get(field)
    return f"is required: it {known}" if known else "is required"


def too_long(limit: int) -> str:
    return f"must be at most {limit} characters"


def format_message(field: str) -> str:
    """The API's message for a field of the wrong shape (`phone must be a phone number...`)."""
    return api_message(field, FORMATS[field])


def format_page_message(field: str) -> str:
    """The same words beside the field on a page (`Phone must be a phone number...`)."""
    return page_message(field, FORMATS[field])
