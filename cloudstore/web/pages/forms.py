"""Form fields in, per-field messages out: the pages show each error beside its field."""

from __future__ import annotations

from collections.abc import Mapping

from cloudstore.auth import check_password_rules, normalize_email
from cloudstore.domain.address import FIELD_LIMITS, PHONE, POSTAL_CODE
from cloudstore.domain.cart import MAX_QUANTITY
from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.field_messages import format_page_message, page_message, too_long
from cloudstore.domain.field_messages import required as is_required
from cloudstore.domain.numbers import whole_number
from cloudstore.domain.text import CONTROL
from cloudstore.shop.accounts import clean_name
from cloudstore.web.html.forms import Form

LIMITS = FIELD_LIMITS
ADDRESS_FIELDS = ("name", "phone", "address", "city", "state", "postal_code")


CONTROL_MESSAGE = "Remove the control characters (invisible codes) from this field."


def _text(data: Mapping[str, str], name: str) -> str:
    """Whitespace collapsed; control characters are kept here and refused by `_refuse_control`
    (as the API refuses them), never silently dropped."""
    return " ".join(str(data.get(name, "")).split())


def _refuse_control(form: Form) -> None:
    for name, value in form.values.items():
        if CONTROL.search(value):
            form.errors.setdefault(name, CONTROL_MESSAGE)


def _capitalized(error: InvalidInput) -> str:
    return error.sentence()


def login_form(data: Mapping[str, str]) -> Form:
    form = Form(values={"email": _text(data, "email")})
    if not form.values["email"]:
        form.errors["email"] = "Enter your email address."
    if not data.get("password"):
        form.errors["password"] = "Enter your password."  # noqa: S105 - a message
    _refuse_control(form)
    return form


def register_form(data: Mapping[str, str]) -> Form:
    form = Form(values={"name": _text(data, "name"), "email": _text(data, "email")})
    password = str(data.get("password", ""))
    try:
        form.values["name"] = clean_name(form.values["name"])
    except InvalidInput as error:
        form.errors["name"] = (
            CONTROL_MESSAGE if error.code == ErrorCode.CONTROL_CHARACTERS else _capitalized(error)
        )
    _refuse_control(form)
    try:
        form.values["email"] = normalize_email(form.values["email"])
    except InvalidInput:
        form.errors["email"] = format_page_message("email")
    try:
        check_password_rules(password)
    except InvalidInput as error:
        form.errors["password"] = _capitalized(error)
    if password and str(data.get("password_confirm", password)) != password:
        form.errors["password_confirm"] = "The passwords do not match."  # noqa: S105
    return form


def address_form(data: Mapping[str, str], *, required: bool) -> Form:
    """Shipping address (required at checkout) or the profile (only a name is required;
    an address, once started, needs its city and postal code)."""
    form = Form(values={name: _text(data, name) for name in ADDRESS_FIELDS})
    values, errors = form.values, form.errors
    # The API's words for the same problems (domain/field_messages.py), after the label.
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = page_message(name, too_long(limit))
    if not values["name"]:
        errors["name"] = page_message("name", is_required("name"))
    needed = ("phone", "address", "city", "postal_code") if required or values["address"] else ()
    for name in needed:
        if not values[name]:
            errors.setdefault(name, page_message(name, is_required(name)))
    if values["phone"] and not PHONE.match(values["phone"]):
        errors.setdefault("phone", format_page_message("phone"))
    if values["postal_code"] and not POSTAL_CODE.match(values["postal_code"]):
        errors.setdefault("postal_code", format_page_message("postal_code"))
    _refuse_control(form)
    return form


def quantity(value: object, *, minimum: int = 1, maximum: int = MAX_QUANTITY) -> int:
    return whole_number(value, name="quantity", minimum=minimum, maximum=maximum)


def password_change_form(data: Mapping[str, str]) -> Form:
    """Current password, new password and its confirmation (values are never echoed)."""
    form = Form()
    new_password = str(data.get("new_password", ""))
    if not data.get("current_password"):
        form.errors["current_password"] = "Enter your current password."  # noqa: S105
    try:
        check_password_rules(new_password, field="new password")
    except InvalidInput as error:
        form.errors["new_password"] = _capitalized(error)
    if new_password and str(data.get("new_password_confirm", "")) != new_password:
        form.errors["new_password_confirm"] = "The passwords do not match."  # noqa: S105
    return form


def reset_request_form(data: Mapping[str, str]) -> Form:
    """The forgot-password form: one email address."""
    form = Form(values={"email": _text(data, "email")})
    try:
        form.values["email"] = normalize_email(form.values["email"])
    except InvalidInput:
        form.errors["email"] = format_page_message("email")
    return form


def password_reset_form(data: Mapping[str, str]) -> Form:
    """A new password and its confirmation (never echoed); the token rides along."""
    form = Form()
    password = str(data.get("password", ""))
    try:
        check_password_rules(password)
    except InvalidInput as error:
        form.errors["password"] = _capitalized(error)
    if password and str(data.get("password_confirm", "")) != password:
        form.errors["password_confirm"] = "The passwords do not match."  # noqa: S105
    return form
