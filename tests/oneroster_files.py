"""OneRoster 1.1 CSV exports the tests write themselves: a clean one, and ways to make it
as messy as real exports are (every cell quoted, extension columns, empty statuses); and
one posted to a school's import route."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence

from tests.conftest import bearer

# The 1.1 CSV tables' columns, in the specification's order.
HEADERS = {
    "orgs": ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
             "parentSourcedId"],
    "users": ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds",
              "role", "username", "userIds", "givenName", "familyName", "middleName",
              "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password"],
    "classes": ["sourcedId", "status", "dateLastModified", "title", "grades",
                "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId",
                "termSourcedIds", "subjects", "subjectCodes", "periods"],
    "enrollments": ["sourcedId", "status", "dateLastModified", "classSourcedId",
                    "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate",
                    "endDate"],
    "academicSessions": ["sourcedId", "status", "dateLastModified", "title", "type",
                         "startDate", "endDate", "parentSourcedId", "schoolYear"],
}
Tables = dict[str, list[dict[str, str]]]


def clean() -> Tables:
    """One ISD's export: Alpha High (a homeroom in R-001, algebra in "Room 2"), Beta
    Elementary, and Delta Middle, which no school of the tests' district is."""
    return {
        "orgs": [
            {"sourcedId": "D1", "name": "One ISD", "type": "district"},
            {"sourcedId": "O-HIGH", "name": "Alpha  High", "type": "school",
             "parentSourcedId": "D1"},
            {"sourcedId": "O-ELEM", "name": "beta elementary", "type": "school",
             "parentSourcedId": "D1"},
            {"sourcedId": "O-MID", "name": "Delta Middle", "type": "school",
             "parentSourcedId": "D1"}],
        "users": [
            {"sourcedId": "T1", "enabledUser": "true", "orgSourcedIds": "O-HIGH",
             "role": "teacher", "givenName": "Tess", "familyName": "Teach"},
            {"sourcedId": "S1", "enabledUser": "true", "orgSourcedIds": "O-HIGH",
             "role": "student", "givenName": "Ana", "familyName": "Alvarez",
             "agentSourcedIds": "P1", "grades": "09"},
            {"sourcedId": "S2", "enabledUser": "true", "orgSourcedIds": "O-HIGH",
             "role": "student", "givenName": "Ben", "familyName": "Brown", "grades": "10,11"},
            {"sourcedId": "S3", "enabledUser": "true", "orgSourcedIds": "O-ELEM",
             "role": "student", "givenName": "Cara", "familyName": "Cruz", "grades": "03"},
            {"sourcedId": "P1", "enabledUser": "true", "role": "parent", "givenName": "Pat",
             "familyName": "Alvarez", "phone": "(512) 555-0101", "agentSourcedIds": "S1",
             "email": "pat@example.org"},
            {"sourcedId": "P2", "enabledUser": "true", "role": "guardian", "givenName": "Gil",
             "familyName": "Brown", "sms": "512-555-0102", "agentSourcedIds": "S2,S3"}],
        "classes": [
            {"sourcedId": "C-HR", "title": "Homeroom 1", "classType": "homeroom",
             "location": "r-001", "schoolSourcedId": "O-HIGH"},
            {"sourcedId": "C-ALG", "title": "Algebra", "classType": "scheduled",
             "location": "Room 2", "schoolSourcedId": "O-HIGH", "periods": "1,2"},
            {"sourcedId": "C-K3", "title": "Third grade", "classType": "homeroom",
             "location": "Portable 9", "schoolSourcedId": "O-ELEM"}],
        "enrollments": [
            {"sourcedId": "E1", "classSourcedId": "C-HR", "schoolSourcedId": "O-HIGH",
             "userSourcedId": "S1", "role": "student"},
            {"sourcedId": "E2", "classSourcedId": "C-HR", "schoolSourcedId": "O-HIGH",
             "userSourcedId": "S2", "role": "student"},
            {"sourcedId": "E3", "classSourcedId": "C-ALG", "schoolSourcedId": "O-HIGH",
             "userSourcedId": "S1", "role": "student"},
            {"sourcedId": "E4", "classSourcedId": "C-ALG", "schoolSourcedId": "O-HIGH",
             "userSourcedId": "T1", "role": "teacher"},
            {"sourcedId": "E5", "classSourcedId": "C-K3", "schoolSourcedId": "O-ELEM",
             "userSourcedId": "S3", "role": "student"}],
        "academicSessions": [
            {"sourcedId": "Y1", "title": "2026-2027", "type": "schoolYear",
             "startDate": "2026-08-01", "endDate": "2027-06-01", "schoolYear": "2027"}],
    }


def table(name: str, rows: Sequence[Mapping[str, str]], *, quote_all: bool = False,
          extra: Sequence[str] = ()) -> bytes:
    """One file: the spec's columns then `extra` ones (e.g. metadata.language)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, [*HEADERS[name], *extra], restval="", lineterminator="\r\n",
                            quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def export(tables: Tables, *, manifest: Mapping[str, str] | None = None,
           quote_all: bool = False, extra: Mapping[str, Sequence[str]] | None = None
           ) -> dict[str, bytes]:
    """The files by name; the manifest marks each table given bulk and the rest absent,
    `manifest` overriding."""
    kinds = {f"file.{n}": "bulk" if n in tables else "absent"
             for n in ("academicSessions", "categories", "classes", "classResources",
                       "courses", "courseResources", "demographics", "enrollments",
                       "lineItems", "orgs", "resources", "results", "users")}
    rows = {"manifest.version": "1.0", "oneroster.version": "1.1", **kinds, **(manifest or {}),
            "source.systemName": "Test SIS"}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n",
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerows([("propertyName", "value"), *rows.items()])
    files = {"manifest.csv": out.getvalue().encode()}
    for name, table_rows in tables.items():
        files[f"{name}.csv"] = table(name, table_rows, quote_all=quote_all,
                                     extra=(extra or {}).get(name, ()))
    return files


def zipped(files: Mapping[str, bytes], folder: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(folder + name, data)
    return out.getvalue()


async def post_export(client, world, body: bytes, who: str = "principal",
                      school: str = "high"):
    """A zipped export posted to the import route of the admin world's `school`, by `who`."""
    return await client.post(f"/v1/schools/{world[school]}/roster/oneroster", content=body,
                             headers=bearer(world[who]) | {"content-type": "application/zip"})
