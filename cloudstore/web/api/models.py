"""Request and response models: they validate input and generate /api/openapi.json."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from cloudstore.domain.cart import MAX_LINES, MAX_QUANTITY
from cloudstore.domain.catalog import MAX_LIMIT, SORTS
from cloudstore.domain.orders import STATUSES
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


Price = Annotated[Decimal, BeforeValidator(_price), Field(json_schema_extra={"minimum": 0})]
Money = Annotated[Decimal, BeforeValidator(_money), Field(json_schema_extra={"minimum": 0})]
Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True)]
ProductId = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=5000)


# ---- auth ---------------------------------------------------------------------------------


class RegisterBody(Body):
    name: Annotated[Text, StringConstraints(min_length=1, max_length=255)]
    email: Annotated[Text, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[StrictStr, StringConstraints(max_length=1024)]


class LoginBody(Body):
    email: Annotated[Text, StringConstraints(max_length=254)]
    password: Annotated[StrictStr, StringConstraints(max_length=1024)]


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


class ProductCreate(Body):
    name: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[Text, StringConstraints(max_length=5000)] = ""
    price: Price
    category: Annotated[Text, StringConstraints(min_length=1, max_length=64)]
    image_url: Annotated[Text, StringConstraints(max_length=2048)] = ""
    stock: Annotated[StrictInt, Field(ge=0, le=10_000_000)] = 0


class ProductUpdate(Body):
    name: Annotated[Text, StringConstraints(min_length=1, max_length=200)] | None = None
    description: Annotated[Text, StringConstraints(max_length=5000)] | None = None
    price: Price | None = None
    category: Annotated[Text, StringConstraints(min_length=1, max_length=64)] | None = None
    image_url: Annotated[Text, StringConstraints(max_length=2048)] | None = None
    stock: Annotated[StrictInt, Field(ge=0, le=10_000_000)] | None = None


class StockAdjust(Body):
    delta: Annotated[StrictInt, Field(ge=-10_000_000, le=10_000_000)]


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
    return Annotated[Text, StringConstraints(min_length=min_length, max_length=max_length)]


class Address(Body):
    name: _field(255)  # type: ignore[valid-type]
    phone: Annotated[Text, StringConstraints(pattern=r"^\+?[0-9 ()\-]{6,20}$")]
    address: _field(500)  # type: ignore[valid-type]
    city: _field(120)  # type: ignore[valid-type]
    state: _field(120, 0) | None = None  # type: ignore[valid-type]
    postal_code: Annotated[Text, StringConstraints(pattern=r"^[A-Za-z0-9 \-]{3,10}$")]


class AddressUpdate(Body):
    name: _field(255) | None = None  # type: ignore[valid-type]
    phone: Annotated[Text, StringConstraints(pattern=r"^\+?[0-9 ()\-]{6,20}$")] | None = None
    address: _field(500)  # type: ignore[valid-type]
    city: _field(120)  # type: ignore[valid-type]
    state: _field(120, 0) | None = None  # type: ignore[valid-type]
    postal_code: Annotated[Text, StringConstraints(pattern=r"^[A-Za-z0-9 \-]{3,10}$")]


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
