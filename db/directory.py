"""A school's directory: the name it has for each person on its staff.

Each membership carries the entry its school typed (a district admin's, the district's);
a removed one leaves its entry in former_directory_entries, so the school's history still
names the people it had. Wherever a school sees a person, it sees its own entry, never
what another school typed nor what the person calls themselves (users.name).
"""

from __future__ import annotations

from domain.roles import Role

# Weakest to strongest, for `order by array_position(RANKED, role) desc`.
RANKED = "array[" + ", ".join(f"'{role}'" for role in Role) + "]"


def entry_name(user: str, school: str) -> str:
    """SQL for the name the school `school` (an SQL expression for its id) has for the
    person `user`: the entry of their strongest membership reaching it, else the entry it
    had when they left; null for a person the school never had."""
    return f"""(select d.name
        from schools s
        join (select m.user_id, m.district_id, m.school_id, m.role, m.name, 0 as gone
              from memberships m
              union all
              select f.user_id, f.district_id, f.school_id, f.role, f.name, 1
              from former_directory_entries f) d
          on d.user_id = {user}
         and (d.school_id = s.id or (d.school_id is null and d.district_id = s.district_id))
        where s.id = {school}
        order by d.gone, array_position({RANKED}, d.role) desc
        limit 1)"""
