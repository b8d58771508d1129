"""Price- and weight-embedded EAN-13 barcodes: the labels a scale or a pricing gun prints
on weighed and priced goods.

GS1 leaves the prefixes 20-29 to each country or retailer ("restricted circulation"): such
a code carries an item reference and the price or weight of that one pack, not a GTIN. A
layout says, per prefix, how the thirteen digits divide:

    prefix (2) | item reference (n) | [verifier (1)] | value (m) | check digit (1)

with 2 + n + (1 if verified) + m + 1 = 13. The value is a price in the currency's minor
units (cents) or a weight in grams. The verifier digit, where the layout has one, is GS1's
price/weight check digit over a 4- or 5-digit value (General Specifications 7.9.3); the
final digit is the usual EAN-13 check digit. Both are verified.

The item is found by its template code: the same code with the value (and verifier) set
to zeros and the check digit made again, which is how scale software registers a
weighed item's "PLU barcode" in the item master (ERPNext's Item Barcode table).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from gateway.barcodes import check_digit
from gateway.errors import InvalidBarcode


class EmbeddedValue(Enum):
    PRICE = "PRICE"  # minor units of the gateway's currency
    WEIGHT = "WEIGHT"  # grams


@dataclass(frozen=True, slots=True)
class EmbeddedLayout:
    prefixes: frozenset[str]  # two digits each, "20" to "29"
    value: EmbeddedValue
    item_digits: int = 5
    verified: bool = False  # a price/weight verifier digit before the value

    @property
    def value_digits(self) -> int:
        return 13 - 2 - self.item_digits - (1 if self.verified else 0) - 1

    def problem(self) -> str | None:
        """What is wrong with this layout, if anything (settings are checked at start)."""
        if not self.prefixes or any(
            len(p) != 2 or not p.isdigit() or not "20" <= p <= "29" for p in self.prefixes
        ):
            return "prefixes must be two digits each, 20 to 29"
        if self.item_digits < 1:
            return "an item reference needs at least one digit"
        if self.value_digits < 1:
            return f"{self.item_digits} item digits leave no room for the value"
        if self.verified and self.value_digits not in (4, 5):
            return f"a verifier digit covers a 4- or 5-digit value, not {self.value_digits}"
        return None


@dataclass(frozen=True, slots=True)
class EmbeddedCode:
    code: str  # as scanned, 13 digits
    layout: EmbeddedLayout
    item_reference: str
    amount: int  # minor units (PRICE) or grams (WEIGHT)

    @property
    def template(self) -> str:
        """The item's own code: the value (and verifier) zeroed, the check digit made again."""
        zeros = "0" * (13 - 2 - self.layout.item_digits - 1)
        body = self.code[:2] + self.item_reference + zeros
        return body + check_digit(body)


# GS1's weightings for the price/weight verifier (General Specifications 7.9.3). Each maps a
# digit d to a digit: "2-" the units of 2d less its tens, "5+" the units of 5d plus its
# tens, "5-" the units of 5d less its tens, "3" plainly 3d. Each is a permutation of 0-9,
# so any one misread digit changes the verifier.
def _two_minus(d: int) -> int:
    return (2 * d % 10 - 2 * d // 10) % 10


def _five_plus(d: int) -> int:
    return (5 * d % 10 + 5 * d // 10) % 10


def _five_minus(d: int) -> int:
    return (5 * d % 10 - 5 * d // 10) % 10


def _three(d: int) -> int:
    return 3 * d


def verifier_digit(value: str) -> str:
    """GS1's price/weight verifier digit of a 4- or 5-digit value."""
    digits = [int(c) for c in value]
    if len(digits) == 4:
        weights = (_two_minus, _two_minus, _three, _five_minus)
        return str(sum(w(d) for w, d in zip(weights, digits, strict=True)) * 3 % 10)
    if len(digits) == 5:
        weights5 = (_five_plus, _two_minus, _five_minus, _five_plus, _two_minus)
        wanted = -sum(w(d) for w, d in zip(weights5, digits, strict=True)) % 10
        # The verifier is the digit whose "5-" weighting makes the sum a multiple of ten.
        return str(next(c for c in range(10) if _five_minus(c) == wanted))
    raise ValueError(f"a verifier covers 4 or 5 digits, not {len(digits)}")


def layout_for(code: str, layouts: tuple[EmbeddedLayout, ...]) -> EmbeddedLayout | None:
    """The layout of a 13-digit code's prefix, or None: not an embedded code here."""
    if len(code) != 13:
        return None
    return next((layout for layout in layouts if code[:2] in layout.prefixes), None)


def decode(code: str, layout: EmbeddedLayout) -> EmbeddedCode:
    """Split a 13-digit code by its layout, its check digit (and verifier) verified."""
    if code[-1] != check_digit(code[:-1]):
        raise InvalidBarcode(
            f"Barcode {code!r} has check digit {code[-1]}, expected {check_digit(code[:-1])}",
            barcode=code,
            reason="BAD_CHECK_DIGIT",
            expected_check_digit=check_digit(code[:-1]),
        )
    start = 2 + layout.item_digits
    item_reference = code[2:start]
    if layout.verified:
        verifier, value = code[start], code[start + 1 : 12]
        if verifier != verifier_digit(value):
            raise InvalidBarcode(
                f"Barcode {code!r} carries {value} with verifier {verifier}, expected "
                f"{verifier_digit(value)}: the {layout.value.value.lower()} was misread",
                barcode=code,
                reason="BAD_PRICE_CHECK_DIGIT",
            )
    else:
        value = code[start:12]
    return EmbeddedCode(code, layout, item_reference, int(value))


def encode(layout: EmbeddedLayout, prefix: str, item_reference: str, amount: int) -> str:
    """The code a scale prints for ``amount`` of the item (the sample data's labels)."""
    if len(item_reference) != layout.item_digits or not item_reference.isdigit():
        raise ValueError(f"the item reference must be {layout.item_digits} digits")
    value = str(amount).rjust(layout.value_digits, "0")
    if len(value) > layout.value_digits or amount < 0:
        raise ValueError(f"{amount} does not fit {layout.value_digits} digits")
    body = prefix + item_reference + (verifier_digit(value) if layout.verified else "") + value
    return body + check_digit(body)
