"""GTIN (EAN-8, UPC-A, EAN-13, GTIN-14) validation and the equivalent forms of one code;
the internal Code 128 codes the gateway gives items that have none.

A UPC-A printed on a pack and the same number scanned as EAN-13 (leading zero) or stored as
GTIN-14 are one product, so lookups try every equivalent form.
"""

from __future__ import annotations

from gateway.errors import InvalidBarcode

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> str:
    """GS1 mod-10: weights 3,1,3,... from the rightmost digit of the body."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def validate_gtin(code: str) -> str:
    """Return the code stripped of spaces, or raise InvalidBarcode saying what is wrong."""
    cleaned = code.strip().replace(" ", "").replace("-", "")
    if not cleaned.isdigit():
        raise InvalidBarcode(
            f"Barcode {code!r} must contain only digits", barcode=code, reason="NOT_NUMERIC"
        )
    if len(cleaned) not in GTIN_LENGTHS:
        raise InvalidBarcode(
            f"Barcode {code!r} has {len(cleaned)} digits; a GTIN has 8, 12, 13 or 14",
            barcode=code,
            reason="BAD_LENGTH",
        )
    expected = check_digit(cleaned[:-1])
    if cleaned[-1] != expected:
        raise InvalidBarcode(
            f"Barcode {code!r} has check digit {cleaned[-1]}, expected {expected}",
            barcode=code,
            reason="BAD_CHECK_DIGIT",
            expected_check_digit=expected,
        )
    return cleaned


def equivalent_forms(gtin: str) -> list[str]:
    """The same GTIN as 12, 13 and 14 digits (zero-padded), the given form first."""
    if len(gtin) == 8:
        return [gtin]
    significant = gtin.lstrip("0")
    forms = [gtin]
    for length in (12, 13, 14):
        if len(significant) <= length:
            form = significant.rjust(length, "0")
            if form not in forms:
                forms.append(form)
    return forms


# Code 128 encodes all of ASCII; a shelf label and a scanner's keyboard wedge want the
# printable part, and a label much wider than this no longer fits a shelf edge.
CODE128_MAX_LENGTH = 48


def validate_assignable(code: str) -> str:
    """A code an item may be given: a GTIN (check digit verified) when it is all digits of a
    GTIN's length, else printable ASCII for Code 128, at most 48 characters."""
    cleaned = code.strip()
    if cleaned.isdigit() and len(cleaned) in GTIN_LENGTHS:
        return validate_gtin(cleaned)
    if not cleaned or len(cleaned) > CODE128_MAX_LENGTH:
        raise InvalidBarcode(
            f"Barcode {code!r} must have 1 to {CODE128_MAX_LENGTH} characters",
            barcode=code,
            reason="BAD_LENGTH",
        )
    if not all(" " <= c <= "~" for c in cleaned):
        raise InvalidBarcode(
            f"Barcode {code!r} has characters a Code 128 label cannot carry (printable ASCII only)",
            barcode=code,
            reason="NOT_CODE_128",
        )
    return cleaned


def internal_code(sku: str, prefix: str) -> str:
    """The item's internal code: the prefix and its SKU, the same however often it is
    asked for (a reprinted label matches the first), unique because SKUs are."""
    return validate_assignable(prefix + sku)
