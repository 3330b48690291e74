"""Every DomainError carries a code from ErrorCode; every raise site in cloudstore/ names one."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import cloudstore
from cloudstore.domain import errors
from cloudstore.domain.errors import DomainError, ErrorCode, InvalidInput
from cloudstore.stores.users import EmailTaken

SOURCE = Path(cloudstore.__file__).parent
# Subclasses that fix their own code (EmailTaken, OutOfStock, ...) may be raised bare.
NEEDS_CODE = {
    name
    for name, value in inspect.getmembers(errors, inspect.isclass)
    if issubclass(value, DomainError)
}


def test_an_error_without_a_code_cannot_be_made():
    with pytest.raises(TypeError):
        InvalidInput("no code")


def test_an_error_keeps_its_code_and_field():
    error = InvalidInput("name is required", code=ErrorCode.REQUIRED, field="name")
    assert (error.code, error.field) == (ErrorCode.REQUIRED, "name")


def test_a_subclass_with_its_own_code_needs_none_at_the_raise():
    assert EmailTaken("taken").code == ErrorCode.EMAIL_TAKEN


def test_sentence_capitalises_and_ends_with_a_full_stop():
    error = InvalidInput("cart is empty", code=ErrorCode.CART_EMPTY)
    assert error.sentence() == "Cart is empty."


def _raises_without_code(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        func = node.exc.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in NEEDS_CODE and not any(k.arg == "code" for k in node.exc.keywords):
            found.append(f"{path.relative_to(SOURCE)}:{node.lineno} {name}")
    return found


def test_every_raise_site_in_cloudstore_names_a_code():
    missing = [hit for path in SOURCE.rglob("*.py") for hit in _raises_without_code(path)]
    assert missing == []


def test_no_view_decides_by_the_text_of_an_error_message():
    views = [*SOURCE.joinpath("web").rglob("*.py")]
    offenders = [
        str(path.relative_to(SOURCE))
        for path in views
        if " in error.message" in path.read_text() or "in str(error)" in path.read_text()
    ]
    assert offenders == []
