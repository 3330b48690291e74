"""Money as Decimal, whole rupiah: parsing, tax rounding and IDR formatting."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from cloudstore.domain.numbers import DECIMAL, MAX_TEXT_CHARS

RUPIAH = Decimal(1)
# Prices above this are surely a typo (a trillion rupiah); it also keeps 1e309 out.
MAX_PRICE = Decimal("1000000000000")


def to_rupiah(value: Decimal | int | str) -> Decimal:
    """A whole-rupiah Decimal, rounded half-up (used for tax and totals)."""
    return Decimal(value).quantize(RUPIAH, rounding=ROUND_HALF_UP)


def parse_price(value: object) -> Decimal:
    """A valid price: a finite, non-negative, whole number of rupiah. Raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError("price must be a number")
    if isinstance(value, str):
        # ASCII digits only (Decimal() also reads "٩٩"), bounded before Decimal() reads it.
        value = value.strip()
        if len(value) > MAX_TEXT_CHARS or not DECIMAL.fullmatch(value):
            raise ValueError("price must be a number")
    try:
        price = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError("price must be a number") from None
    if not price.is_finite():
        raise ValueError("price must be a finite number")
    if price < 0:
        raise ValueError("price must not be negative")
    if price > MAX_PRICE:
        raise ValueError("price is too large")
    if price != price.to_integral_value():
        raise ValueError("price must be a whole number of rupiah")
    return price.quantize(RUPIAH)


def tax_for(subtotal: Decimal, rate: Decimal) -> Decimal:
    return to_rupiah(subtotal * rate)


def format_idr(amount: Decimal | int) -> str:
    """`Rp 32.000.000`: Indonesian grouping with dots, no decimals."""
    whole = int(to_rupiah(amount))
    sign = "-" if whole < 0 else ""
    return f"{sign}Rp {abs(whole):,}".replace(",", ".")


def json_number(amount: Decimal) -> int | float:
    """Decimals leave the API as JSON numbers: an int when whole, else a float."""
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)
