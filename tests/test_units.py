"""units: MDT <-> integer base units, exact, with clear errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moderntensor.errors import InvalidAmountError
from moderntensor.units import BASE_PER_MDT, format_mdt, from_base, to_base


def test_guide_example_amount() -> None:
    assert to_base("12.75") == 12_750_000_000_000_000_000
    assert format_mdt(to_base("12.75")) == "12.75 MDT"


@pytest.mark.parametrize("amount", [5, "5", Decimal(5), "5 MDT", 5.0, "5.000"])
def test_accepted_forms_agree(amount: object) -> None:
    assert to_base(amount) == 5 * BASE_PER_MDT


def test_smallest_unit() -> None:
    assert to_base("0.000000000000000001") == 1
    assert format_mdt(1) == "0.000000000000000001 MDT"


def test_format_whole_and_zero() -> None:
    assert format_mdt(1000 * BASE_PER_MDT) == "1000 MDT"
    assert format_mdt(0) == "0 MDT"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "negative"),
        ("NaN", "finite"),
        ("inf", "finite"),
        ("1e-19", "more than 18 decimals"),
        ("twelve", "not a number"),
        (0.1, "cannot be represented exactly"),
        (True, "boolean"),
        ([1], "cannot read"),
    ],
)
def test_bad_amounts_raise_clear_errors(amount: object, message: str) -> None:
    with pytest.raises(InvalidAmountError, match=message):
        to_base(amount)


def test_from_base_rejects_non_int_and_negative() -> None:
    with pytest.raises(InvalidAmountError):
        from_base(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError):
        from_base(-1)


@given(st.integers(min_value=0, max_value=10**30))
def test_round_trip_is_exact(base: int) -> None:
    assert to_base(from_base(base)) == base
    assert to_base(format_mdt(base)) == base
