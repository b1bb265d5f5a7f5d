"""What `muster demo` prints: ids, and an access token for every demo person."""

from __future__ import annotations

import uuid
from pathlib import Path

from api.http.auth import issue_access_token
from db.demo import SeededDistrict, SeededRoom, SeededUser
from domain.roles import Role
from domain.values import Value


class DemoUser(SeededUser):
    access_token: str


class DemoAdmin(Value):
    id: uuid.UUID
    name: str
    phone: str
    access_token: str


class DemoSchoolReport(Value):
    id: uuid.UUID
    name: str
    rooms: list[SeededRoom]
    users: list[DemoUser]


class DemoReport(Value):
    district_id: uuid.UUID
    schools: list[DemoSchoolReport]
    district_admin: DemoAdmin


def demo_report(seeded: SeededDistrict, secret: str, ttl_s: int) -> DemoReport:
    from api.app import utc_now

    now = utc_now()

    def token(user: SeededUser) -> str:
        return issue_access_token(user.id, secret, now, ttl_s)

    schools = [
        DemoSchoolReport(s.id, s.name, s.rooms,
                         [DemoUser(u.id, u.name, u.role, u.phone, token(u)) for u in s.users])
        for s in seeded.schools
    ]
    admin = seeded.district_admin
    return DemoReport(seeded.district_id, schools,
                      DemoAdmin(admin.id, admin.name, admin.phone, token(admin)))


def summary(report: DemoReport, path: Path, base_url: str) -> str:
    """A few lines a newcomer can copy from."""
    lines = [f"Demo district {report.district_id} is ready; ids and tokens: {path}"]
    for school in report.schools:
        first: dict[Role, DemoUser] = {}
        for user in school.users:
            first.setdefault(user.role, user)
        lines.append(f"  {school.name} ({school.id}): {len(school.rooms)} rooms, "
                     f"{len(school.users)} staff")
        for role, user in first.items():
            lines.append(f"    {role:<10} {user.name:<18} {user.phone}")
    lines.append(f"  district_admin {report.district_admin.name} {report.district_admin.phone}")
    lines.append(f"Open {base_url}/ in a browser and sign in with a phone above: its code "
                 "is texted to this console (\"SMS to ...\").")
    lines.append(f"Or: curl -H \"Authorization: Bearer $(muster token --phone "
                 f"{report.district_admin.phone})\" {base_url}/v1/schools")
    return "\n".join(lines)
