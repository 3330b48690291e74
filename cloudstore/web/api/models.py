"""Request and response models: they validate input and generate /api/openapi.json."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
)

from cloudstore.auth import EMAIL_PATTERN
from cloudstore.domain.address import PHONE_PATTERN, POSTAL_CODE_PATTERN
from cloudstore.domain.cart import MAX_LINES, MAX_QUANTITY
from cloudstore.domain.catalog import MAX_LIMIT, SORTS
from cloudstore.domain.orders import STATUSES
from cloudstore.domain.product_rules import (
    CATEGORY_MAX,
    DESCRIPTION_MAX,
    IMAGE_URL_MAX,
    MAX_STOCK,
    MAX_STOCK_DELTA,
    NAME_MAX,
    SAFE_IMAGE_URL,
)
from cloudstore.money import parse_price


def _price(value: object) -> Decimal:
    if isinstance(value, str):
        raise ValueError("price must be a JSON number")
    return parse_price(value)


def _money(value: object) -> Decimal:
    if isinstance(value, str | bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a JSON number")
    amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite() or amount < 0 or amount > Decimal("1e15"):
        raise ValueError("must be a finite, non-negative amount")
    return amount


def _whole_number(value: object) -> int:
    """JSON numbers only; 59.0 is the integer 59 (as JSON Schema says), 59.5 and "59" are not."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError("must be a whole number")
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError("must be a whole number")
        return int(value)
    return value


def _nonzero(value: int) -> int:
    if value == 0:
        raise ValueError("must not be zero")
    return value


# The documented schemas say exactly what the validators accept.
def whole(ge: int, le: int, **schema_extra):
    """An integer in [ge, le]; the bounds stay on the int so the schema shows them."""
    return Annotated[
        int,
        Field(ge=ge, le=le, json_schema_extra=schema_extra or None),
        BeforeValidator(_whole_number),
    ]


# No control characters (PostgreSQL text cannot even hold NUL); tab and newlines are fine.
# NOT_BLANK needs one character that str.strip() keeps: values are stripped, then checked.
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
NOT_BLANK = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f\x85\xa0]"
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
)
Price = Annotated[
    Decimal,
    BeforeValidator(_price),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 1_000_000_000_000}),
]
Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1e15}),
]
Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, pattern=NO_CONTROL)]
ProductId = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NOT_BLANK),
]
Quantity = whole(1, MAX_QUANTITY)


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=5000, regex_engine="python-re")


# ---- auth ---------------------------------------------------------------------------------


Email = Annotated[
    Text, StringConstraints(min_length=6, max_length=254, pattern=EMAIL_PATTERN.pattern)
]


class RegisterBody(Body):
    name: Annotated[Text, StringConstraints(min_length=1, max_length=255, pattern=NOT_BLANK)]
    email: Email
    password: Annotated[
        StrictStr, StringConstraints(min_length=6, max_length=72, pattern=NO_CONTROL)
    ]


class LoginBody(Body):
    email: Annotated[Text, StringConstraints(max_length=254)]
    password: Annotated[StrictStr, StringConstraints(max_length=1024, pattern=NO_CONTROL)]


class PasswordChangeBody(Body):
    current_password: Annotated[StrictStr, StringConstraints(max_length=1024, pattern=NO_CONTROL)]
    new_password: Annotated[
        StrictStr, StringConstraints(min_length=6, max_length=72, pattern=NO_CONTROL)
    ]


class TokenOut(BaseModel):
    success: bool
    token: str


class UserOut(BaseModel):
    user_id: str
    email: str
    name: str
    role: Literal["customer", "admin"]
    phone: str | None = None
    address: dict | None = None
    created_at: str


class SessionOut(BaseModel):
    success: bool
    token: str
    user: UserOut


class UserEnvelope(BaseModel):
    success: bool
    user: UserOut


# ---- products -----------------------------------------------------------------------------


class ProductQuery(BaseModel):
    category: Annotated[str, StringConstraints(max_length=64)] | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    sort: Literal[SORTS] = "newest"  # type: ignore[valid-type]
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 100
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class ProductOut(BaseModel):
    product_id: str
    category: str
    name: str
    description: str
    price: int
    image_url: str
    stock: int
    created_at: str
    updated_at: str


class ProductEnvelope(BaseModel):
    success: bool
    data: ProductOut


class ProductListOut(BaseModel):
    success: bool
    data: list[ProductOut]
    count: int
    total: int
    next_cursor: str | None


ProductName = Annotated[
    Text, StringConstraints(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK)
]
Description = Annotated[Text, StringConstraints(max_length=DESCRIPTION_MAX)]
Category = Annotated[Text, StringConstraints(min_length=1, max_length=CATEGORY_MAX)]
Stock = whole(0, MAX_STOCK)
ImageUrl = Annotated[
    Text,
    StringConstraints(
        max_length=IMAGE_URL_MAX, pattern=SAFE_IMAGE_URL.pattern.replace(")$", ")?$")
    ),
]


class ProductCreate(Body):
    name: ProductName
    description: Description = ""
    price: Price
    category: Category
    image_url: ImageUrl = ""
    stock: Stock = 0  # type: ignore[valid-type]


class ProductUpdate(Body):
    name: ProductName | None = None
    description: Description | None = None
    price: Price | None = None
    category: Category | None = None
    image_url: ImageUrl | None = None
    stock: Stock | None = None  # type: ignore[valid-type]


class StockAdjust(Body):
    delta: Annotated[
        whole(-MAX_STOCK_DELTA, MAX_STOCK_DELTA, **{"not": {"const": 0}}),  # type: ignore[misc]
        AfterValidator(_nonzero),
    ]


class MessageOut(BaseModel):
    success: bool
    message: str


class ErrorOut(BaseModel):
    success: bool
    error: str


# ---- cart and orders ----------------------------------------------------------------------


class CartItemIn(Body):
    product_id: ProductId
    quantity: Quantity


class CartBody(Body):
    items: Annotated[list[CartItemIn], Field(max_length=MAX_LINES)]


class CartLineOut(BaseModel):
    product_id: str
    name: str
    category: str
    image_url: str
    price: int
    stock: int
    quantity: int
    line_total: int
    available: bool


class CartOut(BaseModel):
    items: list[CartLineOut]
    item_count: int
    subtotal: int
    tax: int
    tax_rate: float
    total: int
    currency: str


class CartEnvelope(BaseModel):
    success: bool
    data: CartOut


def _field(max_length: int, min_length: int = 1):
    pattern = NOT_BLANK if min_length else NO_CONTROL
    return Annotated[
        Text, StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)
    ]


Phone = Annotated[Text, StringConstraints(pattern=PHONE_PATTERN)]
PostalCode = Annotated[Text, StringConstraints(pattern=POSTAL_CODE_PATTERN)]


class Address(Body):
    name: _field(255)  # type: ignore[valid-type]
    phone: Phone
    address: _field(500)  # type: ignore[valid-type]
    city: _field(120)  # type: ignore[valid-type]
    state: _field(120, 0) | None = None  # type: ignore[valid-type]
    postal_code: PostalCode


class AddressUpdate(Body):
    name: _field(255) | None = None  # type: ignore[valid-type]
    phone: Phone | None = None
    address: _field(500)  # type: ignore[valid-type]
    city: _field(120)  # type: ignore[valid-type]
    state: _field(120, 0) | None = None  # type: ignore[valid-type]
    postal_code: PostalCode


class OrderBody(Body):
    items: Annotated[list[CartItemIn], Field(min_length=1, max_length=MAX_LINES)]
    shipping_address: Address
    total_amount: Money | None = None


class OrderItemOut(BaseModel):
    product_id: str
    name: str
    category: str
    image_url: str
    price: int
    quantity: int
    line_total: int


class StatusChange(BaseModel):
    status: str
    at: str
    by: str


class OrderOut(BaseModel):
    order_id: str
    user_id: str
    items: list[OrderItemOut]
    subtotal: int
    tax: int
    tax_rate: float
    total_amount: int
    currency: str
    shipping_address: dict
    status: str
    status_history: list[StatusChange]
    created_at: str
    updated_at: str


class OrderEnvelope(BaseModel):
    success: bool
    data: OrderOut


class OrderListOut(BaseModel):
    success: bool
    data: list[OrderOut]
    count: int
    next_cursor: str | None


class OrderQuery(BaseModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class AdminOrderQuery(BaseModel):
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=1024)] | None = None


class StatusBody(Body):
    status: Literal[STATUSES]  # type: ignore[valid-type]
