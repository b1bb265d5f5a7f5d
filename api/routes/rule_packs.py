"""The built-in rule packs of drill compliance, one per state."""

from __future__ import annotations

from litestar import Router, get

from api.http.pagination import BySlug, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from domain.compliance import RulePack
from domain.compliance_rules import builtin_packs
from domain.values import Value


class RulePackPage(Value):
    items: list[RulePack]
    next_cursor: str | None


@get("/", summary="The built-in rule packs, one per state, by id",
     responses=problem_specs(400, 401))
async def list_rule_packs(limit: Limit = 50, cursor: Cursor = None) -> RulePackPage:
    """Each rule cites its source; each pack says what of it was verified."""
    (after,) = decode_cursor(cursor, BySlug) or ("",)
    packs = [p for i, p in sorted(builtin_packs().items()) if i > after]
    items, next_cursor = paginate(packs, limit, lambda p: (p.id,))
    return RulePackPage(items, next_cursor)


router = Router("/rule-packs", route_handlers=[list_rule_packs], tags=["compliance"])
