"""The built-in rule packs: one TOML file per jurisdiction in this directory, named by the
state's postal code (tx.toml applies to schools whose state is TX).

The files are package data, read once; their schema is domain/compliance.py's RulePack.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

from domain.compliance import RulePack, check_pack, parse_pack
from domain.errors import Invalid


@functools.cache
def builtin_packs() -> dict[str, RulePack]:
    """Every built-in pack by its id ("tx"); a file that is not a valid pack raises."""
    packs = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            pack = parse_pack(tomllib.loads(entry.read_text(encoding="utf-8")))
            if f"{pack.id}.toml" != entry.name:
                raise ValueError(f"{entry.name} holds pack {pack.id!r}; name it {pack.id}.toml")
            packs[pack.id] = pack
    return packs


def state_pack(state: str) -> RulePack | None:
    """The pack for a school in `state` (a two-letter code), if Muster has one."""
    return builtin_packs().get(state.lower())


def builtin_rule_refs() -> frozenset[str]:
    """Every built-in rule as "pack/rule": what a district pack may replace."""
    return frozenset(f"{p.id}/{r.id}" for p in builtin_packs().values() for r in p.rules)


def check_district_pack(pack: RulePack) -> RulePack:
    """A district's own pack: valid, named apart from the built-in packs, and replacing
    only built-in rules."""
    if pack.id in builtin_packs():
        raise Invalid(f"{pack.id!r} is a built-in pack; give yours another id, e.g. 'district'",
                      field="id")
    return check_pack(pack, builtin_rule_refs())
