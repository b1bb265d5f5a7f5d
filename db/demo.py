"""The demo district that `muster demo` seeds: two schools, every role, real-looking rooms,
students in the classrooms with their parents.

Ids are derived from natural keys (uuid5), and every insert ignores rows that
exist, so seeding twice changes nothing and reports the same ids. Phones come
from the fictional 555-01xx range.
"""

from __future__ import annotations

import uuid
from itertools import cycle, islice

from db.pool import Connection
from domain.roles import Role
from domain.values import Value

_NS = uuid.UUID("6f1c2a44-1d2b-4a51-9a3e-5d0c8e7b9a10")

FIRST = ["Maria", "James", "Aisha", "Daniel", "Priya", "Robert", "Keisha", "Luis", "Emily",
         "Marcus", "Hannah", "Tomás", "Grace", "Andre", "Sofia", "Kevin", "Olivia", "Jamal",
         "Chloe", "Ethan", "Fatima", "Brian", "Leah", "Carlos", "Megan", "Derek", "Yuki",
         "Nathan", "Rosa", "Tyler", "Amara", "Paul", "Jasmine", "Victor", "Erin", "Samuel"]
LAST = ["Gonzalez", "Smith", "Nguyen", "Johnson", "Patel", "Williams", "Brown", "Garcia",
        "Miller", "Davis", "Rodriguez", "Wilson", "Martinez", "Anderson", "Taylor", "Thomas",
        "Hernandez", "Moore", "Jackson", "Lee", "Perez", "Thompson", "White", "Harris",
        "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott"]


class DemoRoom(Value):
    code: str
    name: str
    building: str | None
    floor: int | None
    capacity: int | None


class DemoPerson(Value):
    name: str
    phone: str
    role: Role


class DemoContact(Value):
    name: str
    phone: str
    kind: str
    on: str


class DemoSchool(Value):
    key: str
    name: str
    timezone: str
    address: str
    rooms: list[DemoRoom]
    staff: list[DemoPerson]
    contacts: list[DemoContact]
    guardian_area_code: str  # guardians' fictional 555-01xx numbers


STUDENTS_PER_HOMEROOM = 12
RESTRICTED_ADULT = "Rick Sanders"  # named by a no-contact order on one student per school


class SeededUser(Value):
    id: uuid.UUID
    name: str
    role: Role
    phone: str


class SeededRoom(Value):
    id: uuid.UUID
    code: str
    name: str


class SeededSchool(Value):
    id: uuid.UUID
    name: str
    rooms: list[SeededRoom]
    users: list[SeededUser]


class SeededDistrict(Value):
    district_id: uuid.UUID
    schools: list[SeededSchool]
    district_admin: SeededUser


def _id(*key: str) -> uuid.UUID:
    return uuid.uuid5(_NS, "/".join(key))


def _classrooms(building: str, floor: int, count: int, label: str) -> list[DemoRoom]:
    return [DemoRoom(f"{building}-{floor}{n:02d}", f"{label} {building}-{floor}{n:02d}",
                     f"Building {building}", floor, 32) for n in range(1, count + 1)]


def _specials(names: list[str], building: str) -> list[DemoRoom]:
    return [DemoRoom(name, name, building, 1, None) for name in names]


def _portables(count: int) -> list[DemoRoom]:
    return [DemoRoom(f"Portable {n}", f"Portable {n}", "Portables", 1, 28)
            for n in range(1, count + 1)]


def _staff(area_code: str, roles: list[tuple[Role, int]], offset: int) -> list[DemoPerson]:
    people: list[DemoPerson] = []
    names = islice(cycle(FIRST), offset, None)
    for role, count in roles:
        for _ in range(count):
            n = len(people)
            name = f"{next(names)} {LAST[(n * 7 + offset) % len(LAST)]}"
            people.append(DemoPerson(name, f"+1{area_code}55501{n:02d}", role))
    return people


def demo_schools() -> list[DemoSchool]:
    """Riverbend High (60 rooms, 70 staff) and Cedar Elementary (40 rooms, 35 staff), each
    with its address and contacts for real events."""
    high_rooms = (
        _classrooms("A", 1, 12, "Classroom") + _classrooms("A", 2, 8, "Classroom")
        + _classrooms("B", 1, 14, "Science Lab") + _classrooms("B", 2, 10, "Classroom")
        + _classrooms("C", 1, 4, "Art Studio")
        + _specials(["Gym", "Cafeteria", "Library", "Auditorium", "Band Room", "Main Office",
                     "Nurse's Office", "Field House"], "Main Building")
        + _portables(4)
    )
    elementary_rooms = (
        [DemoRoom(f"K-{n}", f"Kindergarten {n}", "Main Building", 1, 22) for n in range(1, 5)]
        + _classrooms("E", 1, 14, "Classroom") + _classrooms("E", 2, 12, "Classroom")
        + _specials(["Gym", "Cafeteria", "Library", "Music Room", "Art Room", "Main Office",
                     "Nurse's Office", "Playground"], "Main Building")
        + _portables(2)
    )
    high_staff = _staff("512", [(Role.PRINCIPAL, 3), (Role.SRO, 2), (Role.TEACHER, 52),
                                (Role.STAFF, 13)], offset=0)
    elementary_staff = _staff("737", [(Role.PRINCIPAL, 2), (Role.SRO, 1), (Role.TEACHER, 24),
                                      (Role.STAFF, 8)], offset=11)
    # whom a real event calls (a drill too, for district security: the demo shows a call)
    police = DemoContact("Riverbend Police dispatch", "+15125550190", "police", "real")
    security = DemoContact("District security desk", "+15125550191", "district_security",
                           "real_and_drills")
    return [
        DemoSchool("riverbend-high", "Riverbend High School", "America/Chicago",
                   "4200 River Road, Riverbend, TX 78701", high_rooms, high_staff,
                   [police, security], "830"),
        DemoSchool("cedar-elementary", "Cedar Elementary School", "America/Chicago",
                   "815 Cedar Lane, Riverbend, TX 78702", elementary_rooms,
                   elementary_staff, [police], "210"),
    ]


DISTRICT_ADMIN = DemoPerson("Dana Whitfield", "+15125550199", Role.DISTRICT_ADMIN)


async def seed_demo(conn: Connection) -> SeededDistrict:
    """Insert whatever of the demo district is missing; return its ids."""
    district_id = _id("district")
    async with conn.transaction():
        await conn.execute(
            "insert into districts (id, name, state) values ($1, $2, 'TX') on conflict do nothing",
            district_id, "Riverbend Independent School District")
        schools = [await _seed_school(conn, district_id, s) for s in demo_schools()]
        admin = (await _seed_people(conn, district_id, None, [DISTRICT_ADMIN]))[0]
    return SeededDistrict(district_id, schools, admin)


async def _seed_school(conn: Connection, district_id: uuid.UUID,
                       school: DemoSchool) -> SeededSchool:
    school_id = _id("school", school.key)
    await conn.execute(
        """insert into schools (id, district_id, name, timezone, state,
                                school_year_start_month, school_year_start_day, address)
           values ($1, $2, $3, $4, 'TX', 8, 12, $5)
           on conflict (id) do update set address = coalesce(schools.address, excluded.address)""",
        school_id, district_id, school.name, school.timezone, school.address)
    await conn.executemany(
        """insert into school_contacts (id, school_id, position, name, phone, kind, calls_on,
                                        added_at)
           values ($1, $2, $3, $4, $5, $6, $7, now()) on conflict do nothing""",
        [(_id("contact", school.key, c.phone), school_id, n, c.name, c.phone, c.kind, c.on)
         for n, c in enumerate(school.contacts)])
    await conn.executemany(
        """insert into rooms (id, school_id, code, name, building, floor, capacity)
           values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing""",
        [(_id("room", school.key, r.code), school_id, r.code, r.name, r.building, r.floor,
          r.capacity) for r in school.rooms])
    rows = await conn.fetch(
        "select id, code, name from rooms where school_id = $1 and code = any($2::text[])",
        school_id, [r.code for r in school.rooms])
    by_code = {r["code"]: SeededRoom(r["id"], r["code"], r["name"]) for r in rows}
    users = await _seed_people(conn, district_id, school_id, school.staff)
    await _seed_students(conn, school_id, school, by_code)
    return SeededSchool(school_id, school.name, [by_code[r.code] for r in school.rooms], users)


async def _seed_people(conn: Connection, district_id: uuid.UUID,
                       school_id: uuid.UUID | None,
                       people: list[DemoPerson]) -> list[SeededUser]:
    await conn.executemany(
        "insert into users (id, name, phone) values ($1, $2, $3) on conflict do nothing",
        [(_id("user", p.phone), p.name, p.phone) for p in people])
    rows = await conn.fetch("select id, name, phone from users where phone = any($1::text[])",
                            [p.phone for p in people])
    by_phone = {r["phone"]: r for r in rows}
    await conn.executemany(
        """insert into memberships (id, user_id, district_id, school_id, role, name)
           values ($1, $2, $3, $4, $5, $6) on conflict do nothing""",
        [(_id("membership", p.phone, str(school_id)), by_phone[p.phone]["id"], district_id,
          school_id, p.role, p.name) for p in people])
    return [SeededUser(by_phone[p.phone]["id"], by_phone[p.phone]["name"], p.role, p.phone)
            for p in people]


async def _seed_students(conn: Connection, school_id: uuid.UUID, school: DemoSchool,
                         rooms: dict[str, SeededRoom]) -> None:
    """STUDENTS_PER_HOMEROOM students in each room with a capacity (a classroom), each with
    a parent; the first hundred parents have a phone (the 555-01xx range holds no more),
    and the first student's record bars RESTRICTED_ADULT: enough to take a roll call and
    run a reunification."""
    homerooms = [rooms[r.code] for r in school.rooms if r.capacity]
    given, family = cycle(FIRST), cycle(LAST)
    students, guardians, links = [], [], []
    for n in range(len(homerooms) * STUDENTS_PER_HOMEROOM):
        source = f"DEMO-{n:04d}"
        student_id = _id("student", school.key, source)
        guardian_id = _id("guardian", school.key, source)
        first, last = next(given), next(family)
        students.append((student_id, school_id, source, first, last, None,
                         homerooms[n // STUDENTS_PER_HOMEROOM].id))
        phone = f"+1{school.guardian_area_code}55501{n:02d}" if n < 100 else None
        guardians.append((guardian_id, school_id, f"G-{source}", f"{next(given)} {last}", phone))
        links.append((student_id, guardian_id, school_id))
    await conn.executemany(
        """insert into students (id, school_id, source_id, given_name, family_name, grade,
                                 homeroom_id, updated_at)
           values ($1, $2, $3, $4, $5, $6, $7, now()) on conflict do nothing""", students)
    await conn.executemany(
        """insert into guardians (id, school_id, source_id, name, phone, updated_at)
           values ($1, $2, $3, $4, $5, now()) on conflict do nothing""", guardians)
    await conn.executemany(
        """insert into student_guardians (student_id, guardian_id, school_id, relationship)
           values ($1, $2, $3, 'parent') on conflict do nothing""", links)
    await conn.execute(
        """insert into student_restrictions (id, student_id, school_id, kind, adult_name, note)
           values ($1, $2, $3, 'no_contact', $4, 'Court order on file in the main office')
           on conflict do nothing""",
        _id("restriction", school.key), students[0][0], school_id, RESTRICTED_ADULT)
