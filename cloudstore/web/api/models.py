"""Request and response models: they validate input and generate /api/openapi.json."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from cloudstore.auth import EMAIL_PATTERN
from cloudstore.domain.address import (
    PHONE_PATTERN,
    POSTAL_CODE_PATTERN,
    SPEC_NAMES,
    address_fields,
)
from cloudstore.domain.cart import MAX_LINES, MAX_QUANTITY
from cloudstore.domain.catalog import MAX_LIMIT, SORTS
from cloudstore.domain.errors import InvalidInput
from cloudstore.domain.field_messages import FORMATS
from cloudstore.domain.numbers import whole_number
from cloudstore.domain.order_search import MAX_SEARCH_CHARS
from cloudstore.domain.order_search import SORTS as ORDER_SORTS
from cloudstore.domain.orders import STATUSES
from cloudstore.domain.payments import PAYMENT_STATUSES, PROVIDERS
from cloudstore.domain.product_rules import (
    CATEGORY_MAX,
    DESCRIPTION_MAX,
    IMAGE_URL_MAX,
    MAX_STOCK,
    MAX_STOCK_DELTA,
    NAME_MAX,
    SAFE_IMAGE_URL,
)
from cloudstore.money import MAX_PRICE, parse_price


def _price(value: object) -> Decimal:
    if isinstance(value, str | bool) or not isinstance(value, int | Decimal):
        raise ValueError(FORMATS["price"])
    try:
        return parse_price(value)
    except ValueError:
        raise ValueError(f"{FORMATS['price']}, at most {MAX_PRICE}") from None


def _money(value: object) -> Decimal:
    if isinstance(value, str | bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(FORMATS["total_amount"])
    amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise ValueError(FORMATS["total_amount"])
    return amount


def _whole_number(ge: int, le: int) -> Callable[[object], int]:
    """JSON numbers only; 59.0 is the integer 59 (as JSON Schema says), 59.5 and "59" are not.
    The range is checked on the Decimal, before `int()`: a huge exponent never converts."""
    rule = f"must be a whole number from {ge} to {le}"

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ValueError(rule)
        if isinstance(value, Decimal) and (
            not value.is_finite() or value != value.to_integral_value()
        ):
            raise ValueError(rule)
        if not ge <= value <= le:
            raise ValueError(rule)
        return int(value)

    return check


def _query_number(ge: int, le: int) -> Callable[[object], int]:
    """A whole number from a query string, through the one bounded parser."""

    def check(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        try:
            return whole_number(value, name="", minimum=ge, maximum=le)
        except InvalidInput as error:
            raise ValueError(error.message.strip()) from None

    return check


def _nonzero(value: int) -> int:
    if value == 0:
        raise ValueError("must not be zero")
    return value


# The documented schemas say exactly what the validators accept.
def whole(ge: int, le: int, **schema_extra: Any) -> Any:
    """The bounds of an integer in [ge, le], kept on the int so the schema shows them:
    `Annotated[int, whole(ge, le), whole_check(ge, le)]`."""
    return Field(ge=ge, le=le, json_schema_extra=schema_extra or None)


def whole_check(ge: int, le: int) -> Any:
    """The check itself: the range is compared on the Decimal, before `int()`."""
    return BeforeValidator(_whole_number(ge, le))


def query_whole(ge: int, le: int):
    """An integer query parameter in [ge, le], refused by its text before conversion."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_query_number(ge, le))]


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
MAX_AMOUNT = Decimal("1e15")
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
Quantity = Annotated[int, whole(1, MAX_QUANTITY), whole_check(1, MAX_QUANTITY)]


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


class PasswordResetBody(Body):
    email: Annotated[Text, StringConstraints(max_length=254)]


class PasswordResetConfirmBody(Body):
    token: Annotated[StrictStr, StringConstraints(max_length=128, pattern=r"^[A-Za-z0-9_-]*$")]
    # The password rules themselves are the shop's (auth.check_password_rules).
    password: Annotated[StrictStr, StringConstraints(max_length=1024, pattern=NO_CONTROL)]


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
    # The same address in the spec client's flat names.
    address_street: str | None = None
    address_city: str | None = None
    address_state: str | None = None
    address_postal_code: str | None = None
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
    # Without `limit`, the whole list of a normal shop (the spec's client never pages);
    # `total` and `next_cursor` still say when there is more.
    limit: query_whole(1, MAX_LIMIT) = MAX_LIMIT  # type: ignore[valid-type]
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class ImageSizeOut(BaseModel):
    """One size of an uploaded image: CSS pixels and the files' names (under /media/)."""

    width: int
    height: int
    one_x: str = Field(alias="1x")
    two_x: str = Field(alias="2x")


class ProductImageOut(BaseModel):
    card: ImageSizeOut
    page: ImageSizeOut
    thumb: ImageSizeOut


class ProductOut(BaseModel):
    product_id: str
    category: str
    name: str
    description: str
    price: int
    # The product-page image: /static/... (seed artwork), /media/<name> (an upload), or "".
    image_url: str
    stock: int
    created_at: str
    updated_at: str
    # Only for an uploaded image: every size the pages use.
    image: ProductImageOut | None = None


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
Stock = Annotated[int, whole(0, MAX_STOCK), whole_check(0, MAX_STOCK)]
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
    stock: Stock = 0


class ProductUpdate(Body):
    name: ProductName | None = None
    description: Description | None = None
    price: Price | None = None
    category: Category | None = None
    image_url: ImageUrl | None = None
    stock: Stock | None = None


class StockAdjust(Body):
    delta: Annotated[
        int,
        whole(-MAX_STOCK_DELTA, MAX_STOCK_DELTA, **{"not": {"const": 0}}),
        whole_check(-MAX_STOCK_DELTA, MAX_STOCK_DELTA),
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


def _length(max_length: int, min_length: int = 1) -> StringConstraints:
    """An address line's bounds: `Annotated[Text, _length(...)]`."""
    pattern = NOT_BLANK if min_length else NO_CONTROL
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)


Phone = Annotated[Text, StringConstraints(pattern=PHONE_PATTERN)]
PostalCode = Annotated[Text, StringConstraints(pattern=POSTAL_CODE_PATTERN)]


class Address(Body):
    name: Annotated[Text, _length(255)]
    phone: Phone
    address: Annotated[Text, _length(500)]
    city: Annotated[Text, _length(120)]
    state: Annotated[Text, _length(120, 0)] | None = None
    postal_code: PostalCode


def _spec_properties(schema: dict[str, Any]) -> None:
    """The spec client's names, documented beside ours: the same rules as ours."""
    properties = schema["properties"]
    for name, ours in SPEC_NAMES.items():
        properties[name] = {
            **properties[ours],
            "title": name.replace("_", " ").title(),
            "description": f"the spec client's name for `{ours}` (wins over it)",
        }


class AddressUpdate(Body):
    """Our names, or the spec client's flat ones (`address_street`, `address_city`,
    `address_state`, `address_postal_code`), which win; an empty string means absent."""

    model_config = ConfigDict(json_schema_extra=_spec_properties)

    @model_validator(mode="before")
    @classmethod
    def _spec_names(cls, data: Any) -> Any:
        return address_fields(data)

    name: Annotated[Text, _length(255)] | None = None
    phone: Phone | None = None
    address: Annotated[Text, _length(500)]
    city: Annotated[Text, _length(120)]
    state: Annotated[Text, _length(120, 0)] | None = None
    postal_code: PostalCode


class OrderBody(Body):
    items: Annotated[list[CartItemIn], Field(min_length=1, max_length=MAX_LINES)]
    shipping_address: Address
    total_amount: Money | None = None


MAX_ORDER_LIMIT = 1000


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
    by_user_id: str | None = None
    reason: str | None = None


_NotificationText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")
]


class NotificationIn(BaseModel):
    """Midtrans's HTTP notification: the fields the shop reads (it sends more)."""

    order_id: _NotificationText
    status_code: _NotificationText
    gross_amount: _NotificationText
    signature_key: _NotificationText
    transaction_status: _NotificationText
    fraud_status: _NotificationText | None = None
    transaction_id: _NotificationText | None = None


class TransferInstruction(BaseModel):
    bank: str
    account_number: str
    account_name: str
    amount: int
    reference: str  # the order id: what the shopper writes as the transfer's reference


class PaymentEventOut(BaseModel):
    at: str
    source: str
    status: str
    note: str | None = None
    reference: str | None = None


class PaymentOut(BaseModel):
    provider: Literal[PROVIDERS]  # type: ignore[valid-type]
    status: Literal[PAYMENT_STATUSES]  # type: ignore[valid-type]
    amount: int
    expires_at: str
    # bank_transfer: where to transfer; midtrans: the payment page (null until reached).
    instructions: list[TransferInstruction] | None = None
    redirect_url: str | None = None
    reference: str | None = None
    paid_at: str | None = None
    events: list[PaymentEventOut] | None = None


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
    expires_at: str | None = None
    payment: PaymentOut | None = None


class OrderEnvelope(BaseModel):
    success: bool
    data: OrderOut


class OrderListOut(BaseModel):
    success: bool
    data: list[OrderOut]
    count: int
    # A customer's own list: every order of theirs, whatever page this is.
    total: int | None = None
    next_cursor: str | None


class OrderQuery(BaseModel):
    # As for products: the whole history of a normal customer unless the client pages.
    limit: query_whole(1, MAX_ORDER_LIMIT) = MAX_ORDER_LIMIT  # type: ignore[valid-type]
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class AdminOrderFilters(BaseModel):
    """The admin's order filters (`domain.order_search.parse_filters` checks them)."""

    q: (
        Annotated[
            str,
            StringConstraints(max_length=MAX_SEARCH_CHARS),
            Field(description="an order id (ORD-…) or a customer's email"),
        ]
        | None
    ) = None
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    date_from: (
        Annotated[
            str,
            StringConstraints(max_length=10),
            Field(description="YYYY-MM-DD (SHOP_TIMEZONE)"),
        ]
        | None
    ) = Field(default=None, alias="from")
    date_to: (
        Annotated[str, StringConstraints(max_length=10), Field(description="YYYY-MM-DD, included")]
        | None
    ) = Field(default=None, alias="to")
    sort: Literal[ORDER_SORTS] = "newest"  # type: ignore[valid-type]

    def as_args(self) -> dict[str, str | None]:
        return {
            "q": self.q,
            "status": self.status,
            "from": self.date_from,
            "to": self.date_to,
            "sort": self.sort,
        }


class AdminOrderQuery(AdminOrderFilters):
    limit: query_whole(1, 100) = 50  # type: ignore[valid-type]
    cursor: Annotated[str, StringConstraints(max_length=1024)] | None = None


class StatusBody(Body):
    status: Literal[STATUSES]  # type: ignore[valid-type]
    # The payment's proof when a pending order becomes paid (checked by the shop: 1-100
    # printable characters; required for bank transfers).
    reference: Annotated[str, StringConstraints(max_length=1000)] | None = None
