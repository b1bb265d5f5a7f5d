"""Phone numbers arrive as people type them; we store E.164 (`+15125550100`)."""

from __future__ import annotations

import phonenumbers

from domain.errors import Invalid


def to_e164(raw: str, field: str = "phone", region: str = "US") -> str:
    """Normalise a typed phone number; 400 naming `field` when it is not a real number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise Invalid(f"{raw!r} is not a phone number", field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"{raw!r} is not a valid phone number", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
