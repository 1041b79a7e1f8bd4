"""MDT amounts: 18 decimals, kept as integer base units everywhere.

>>> to_base("12.75")
12750000000000000000
>>> format_mdt(to_base("12.75"))
'12.75 MDT'
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

from moderntensor.errors import InvalidAmountError

DECIMALS = 18
BASE_PER_MDT = 10**DECIMALS
SYMBOL = "MDT"
MAX_BASE = 2**256 - 1  # balances are uint256 on the Ethereum-compatible shell
# Enough digits for any uint256 amount with 18 decimals, so no conversion ever rounds.
_EXACT = Context(prec=100)

Amount = int | str | Decimal | float


def _as_decimal(amount: Amount) -> Decimal:
    if isinstance(amount, bool):
        raise InvalidAmountError(f"{amount!r} is a boolean, not an amount of MDT")
    if isinstance(amount, float):
        exact = Decimal(amount)
        shortest = Decimal(repr(amount))
        if exact != shortest:
            raise InvalidAmountError(
                f"float {amount!r} cannot be represented exactly; pass it as a string, "
                f"e.g. to_base('{amount!r}')"
            )
        return exact
    if isinstance(amount, int | Decimal):
        return Decimal(amount)
    if isinstance(amount, str):
        text = amount.strip().removesuffix(SYMBOL).strip().replace("_", "")
        try:
            return Decimal(text)
        except InvalidOperation:
            raise InvalidAmountError(
                f"{amount!r} is not a number of MDT (expected e.g. '12.75')"
            ) from None
    raise InvalidAmountError(f"cannot read an amount of MDT from {type(amount).__name__}")


def to_base(amount: Amount) -> int:
    """Convert an MDT amount (``"12.75"``, ``Decimal``, ``5``) to integer base units.

    Negative, NaN, infinite amounts, floats that are not exact and amounts with more
    than 18 decimals raise :class:`InvalidAmountError`.
    """
    value = _as_decimal(amount)
    if not value.is_finite():
        raise InvalidAmountError(f"{amount!r} is not a finite amount of MDT")
    if value < 0:
        raise InvalidAmountError(f"{amount!r} is negative; amounts of MDT are >= 0")
    base = value.scaleb(DECIMALS, _EXACT)
    if base != base.to_integral_value():
        raise InvalidAmountError(
            f"{amount!r} has more than {DECIMALS} decimals; MDT is divisible to 1e-{DECIMALS}"
        )
    if base > MAX_BASE:
        raise InvalidAmountError(f"{amount!r} is larger than any MDT balance can be")
    return int(base)


def from_base(base: int) -> Decimal:
    """Convert integer base units to an exact ``Decimal`` number of MDT."""
    if isinstance(base, bool) or not isinstance(base, int):
        raise InvalidAmountError(f"base units must be an int, got {type(base).__name__}")
    if base < 0:
        raise InvalidAmountError(f"{base} base units is negative")
    return Decimal(base).scaleb(-DECIMALS, _EXACT).normalize(_EXACT) if base else Decimal(0)


def format_mdt(base: int, *, symbol: bool = True, places: int | None = None) -> str:
    """Format base units for people: ``format_mdt(12_750 * 10**15) == "12.75 MDT"``.

    Exact by default; ``places`` rounds for tables (``format_mdt(10**18 // 3, places=4)``
    is ``"0.3333 MDT"``), with thousands separators.
    """
    amount = from_base(base)
    text = f"{amount:f}" if places is None else f"{amount:,.{places}f}"
    return f"{text} {SYMBOL}" if symbol else text
