"""A reunification's record as CSV and as a printable page (inline CSS, no JavaScript):
every release with who, when, how it was verified and who approved it; the times to the
first release, to half and to all. Every text a person typed goes through `escape` (the
page) or `_cell` (the CSV)."""

from __future__ import annotations

import csv
import io
from html import escape

from api.rendering.report_text import NEVER, _cell, _iso, duration, local, zone
from api.usecases.reunification import Record

_COLUMNS = ["student", "adult", "relationship", "id_seen", "verification", "approved_by",
            "released_by", "released_at", "note"]
_MILESTONES = [("first_release_s", "First release"), ("half_released_s", "Half released"),
               ("all_released_s", "All released")]


def _figures(record: Record) -> list[tuple[str, object]]:
    r, c, t = record.reunification, record.counts, record.timings
    return [("reunification_id", r.id), ("school", record.school), ("site", r.site),
            ("address", r.address), ("opened_at", _iso(r.opened_at)),
            ("closed_at", _iso(r.closed_at)), ("arrived", c.arrived),
            ("released", c.released), ("awaiting_pickup", c.awaiting_pickup),
            ("not_arrived", c.not_arrived),
            *((key, getattr(t, key)) for key, _ in _MILESTONES)]


def to_csv(record: Record) -> str:
    """`figure,value` rows, a blank line, then one row per release in order."""
    out = io.StringIO()
    write = csv.writer(out, lineterminator="\r\n").writerow
    write(["figure", "value"])
    for key, value in _figures(record):
        write([key, _cell(value)])
    write([])
    write(_COLUMNS)
    for e in record.releases:
        write([_cell(v) for v in (e.student, e.adult, e.relationship, str(e.id_seen).lower(),
                                  e.verification.value, e.approved_by, e.released_by,
                                  _iso(e.released_at), e.note)])
    return out.getvalue()


_CSS = """
@page { size: letter; margin: 9mm 10mm; }
body { font: 9.5pt/1.35 "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: #111;
       max-width: 196mm; margin: 0 auto; padding: 6mm 12px; }
h1 { font-size: 16pt; margin: 0 0 2px; }
h2 { font-size: 11pt; margin: 12px 0 4px; border-bottom: 1.5px solid #111; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; }
dt { font-weight: 700; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; }
.approved { font-weight: 700; }
"""


def render(record: Record) -> str:
    """One page: the site and its figures, then the table of releases."""
    r, c, t = record.reunification, record.counts, record.timings
    tz = zone(record.timezone)
    where = escape(r.site) + (f", {escape(r.address)}" if r.address else "")
    facts = [("Site", where), ("Opened", escape(local(r.opened_at, tz))),
             ("Closed", escape(local(r.closed_at, tz)) if r.closed_at else "still open"),
             ("Students at the site", str(c.arrived)), ("Released", str(c.released)),
             ("Awaiting pickup", str(c.awaiting_pickup)),
             ("Not arrived", str(c.not_arrived)),
             *((label, NEVER if getattr(t, key) is None else duration(getattr(t, key)))
               for key, label in _MILESTONES)]
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in (
            escape(e.student), escape(e.adult), escape(e.relationship or ""),
            "yes" if e.id_seen else "no",
            '<span class="approved">approved</span>' if e.verification == "approved"
            else "listed",
            escape(e.approved_by or ""), escape(e.released_by),
            escape(local(e.released_at, tz)), escape(e.note or ""))) + "</tr>"
        for e in record.releases)
    head = "".join(f"<th>{h}</th>" for h in (
        "Student", "Adult", "Relationship", "ID seen", "Verification", "Approved by",
        "Released by", "Released at", "Note"))
    return "".join([
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>Reunification record, {escape(record.school)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Reunification record</h1><div>{escape(record.school)}</div>",
        "<dl>", *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts), "</dl>",
        f"<h2>Releases ({len(record.releases)})</h2>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        if record.releases else "<p>No student has been released.</p>",
        "</body></html>"])
