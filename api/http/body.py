"""The base of every request body."""

from __future__ import annotations

from domain.values import Value


class Body(Value, forbid_unknown_fields=True):
    """What a client sends: a Value (read-only once decoded) that refuses a field it does
    not declare (400, naming the field), so a misspelt field never passes as left out.
    Subclasses whose optional fields come before required ones add `kw_only=True`
    (msgspec applies it per class, not by inheritance)."""
