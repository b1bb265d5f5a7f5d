"""The printable drill report: one page of HTML with inline CSS and a timeline chart drawn
here as SVG. No JavaScript and nothing fetched, so it prints and archives as it is. Every
text a person typed (names, notes, rooms) goes through `escape`."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from api.rendering.report_text import (
    NEVER,
    duration,
    figures,
    local,
    room_cells,
    title,
    zone,
)
from api.usecases.drill_record import EventReport
from domain.after_action import AfterActionRevision
from domain.timing import MarkerKind, RoomTiming, TimingRecord

_CSS = """
@page { size: letter; margin: 9mm 10mm; }
* { box-sizing: border-box; }
body { font: 9pt/1.3 "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: #111;
       max-width: 196mm; margin: 0 auto; padding: 6mm 12px;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 16pt; margin: 0; }
h2 { font-size: 10.5pt; margin: 10px 0 4px; border-bottom: 1.5px solid #111; }
header { display: flex; flex-wrap: wrap; justify-content: space-between;
         align-items: flex-start; gap: 4px 12px; }
.kind { display: inline-block; font-weight: 700; padding: 1px 8px; border-radius: 3px;
        border: 1.5px solid #111; letter-spacing: .04em; }
.real { background: #111; color: #fff; }
.state { text-align: right; font-size: 9pt; }
.state .muted { font-size: 7.5pt; line-height: 1.25; margin-top: 2px; }
.banner { margin: 8px 0; padding: 6px 10px; border: 2px solid #9a6700; background: #fff8c5;
          font-weight: 700; }
.halves { display: flex; gap: 14px; } .halves > div { flex: 1 1 0; min-width: 0; }
.halves .facts { grid-template-columns: auto 1fr; }
.facts { display: grid; grid-template-columns: auto 1fr auto 1fr; gap: 1px 10px;
         margin: 6px 0 0; font-size: 9pt; }
.facts dt { color: #555; } .facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.figures { display: grid; grid-template-columns: repeat(5, 1fr); gap: 4px; margin-top: 8px; }
.figure { border: 1px solid #999; border-radius: 3px; padding: 2px 6px; break-inside: avoid;
          line-height: 1.2; min-width: 0; }
.figure .v { font-size: 12.5pt; font-weight: 700; font-variant-numeric: tabular-nums; }
.figure .v.why { font-size: 9.5pt; font-weight: 600; color: #555; padding: 2px 0 1px; }
.figure .l { font-size: 8pt; color: #333; } .figure .n { font-size: 7.5pt; color: #666; }
svg { display: block; width: 100%; height: auto; }
.chart { overflow-x: auto; }
.halves table { margin-top: 6px; }
.rooms { display: flex; gap: 10px; align-items: flex-start; }
.rooms > table { flex: 1 1 0; min-width: 0; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; line-height: 1.25; }
thead { display: table-header-group; }
th { text-align: left; border-bottom: 1px solid #111; padding: 0 2px; font-weight: 600;
     font-size: 7.5pt; vertical-align: bottom; }
td { border-bottom: 1px solid #ddd; padding: 0 2px; vertical-align: top; }
td.room, td.who, tr.note td { overflow-wrap: anywhere; }
td.who { min-width: 6em; }
td.n, th.n, td.status { width: 1%; white-space: nowrap; }  /* numbers take what they need */
tbody.noted tr:first-child td { border-bottom: 0; }
tr.note td { padding: 0 2px 2px 14px; }
ul.inline { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; }
tr, tbody.noted { break-inside: avoid; }
abbr { text-decoration: none; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.name { color: #555; }
.help { color: #b00; font-weight: 700; }
.never { color: #b00; }
.muted { color: #666; }
.key { font-size: 7.5pt; font-weight: 400; color: #555; margin-left: 8px; }
p { margin: 3px 0; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
ul { margin: 2px 0; padding-left: 18px; }
.signoff { display: none; }
@media print {
  body { padding: 0; }
  .signoff { display: flex; align-items: flex-end; gap: 2mm; margin-top: 10px;
             break-inside: avoid; }
  .signoff b { margin-right: 3mm; }
  .signoff .blank { flex: 3 1 0; height: 9mm; border-bottom: 1px solid #111;
                    margin-right: 4mm; }
  .signoff .blank.date { flex: 1.5 1 0; margin-right: 0; }
}
@media screen and (max-width: 640px) {
  header { flex-direction: column; } .state { text-align: left; }
  .facts { grid-template-columns: auto 1fr; }
  .figures { grid-template-columns: repeat(2, 1fr); }
  .rooms, .halves { flex-direction: column; } .rooms > table { width: 100%; }
  .chart svg { min-width: 600px; }  /* readable words; the chart scrolls sideways */
}
"""

# Reported rooms beyond this many go in two side-by-side tables (stacked on a phone), to
# keep the printed page short.
_ONE_COLUMN_ROOMS = 12
# The room table's headings, short to leave two tables side by side room for names: the
# words, what they abbreviate (the heading's key explains them), numeric or not.
_HEADINGS = (("room", "", False), ("after", "", True), ("status", "", False),
             ("pres.", "students present", True), ("miss.", "students missing", True),
             ("extra", "", True), ("inj.", "injured", True), ("reporter", "", False))
_STATUS = {None: NEVER, "ok": "OK", "needs_help": "HELP"}  # short, for two tables abreast

# The chart's frame, in SVG user units (the page scales it to its width).
_W, _H = 720, 186
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 706, 30, 124
_SERIES = (  # legend words, stroke colour, dash pattern
    ("Rooms reported", "#1a7f37", ""),
    ("Alerts handed off", "#0550ae", "7 3"),
    ("Acknowledged", "#bc4c00", "2 2.5"),
)
_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200,
          10800, 21600, 43200, 86400)


def render(report: EventReport) -> str:
    """The whole page."""
    t, tz = report.timing, zone(report.school.timezone)
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title(report))}, {escape(report.school.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        _header(report, tz),
        _banner(report, tz),
        _figures(t),
        '<h2>Timeline</h2><div class="chart">', chart(t), "</div>",
        _rooms(t, report.people),
        _unreported(t),
        _after_action(report, tz),
        _signoff(),
        "</body></html>\n",
    ])


def _header(report: EventReport, tz: tzinfo) -> str:
    event, people = report.event, report.people
    kind = ('<span class="kind">DRILL</span>' if event.drill
            else '<span class="kind real">REAL EVENT</span>')
    ended = (f"{escape(local(event.ended_at, tz))} by "
             f"{escape(people.get(event.ended_by, '?') if event.ended_by else '?')}"
             if event.ended_at else "not yet")
    facts = [("Started", f"{escape(local(event.started_at, tz))} by "
                         f"{escape(people.get(event.started_by, '?'))}"),
             ("Ended", ended),
             ("Action", escape(event.action.value)),
             ("Directive", escape(event.directive))]
    if event.end_reason:
        facts.append(("End note", escape(event.end_reason)))
    if event.location:
        facts.append(("Location", escape(event.location)))
    return (f"<header><div>{kind}<h1>{escape(title(report))}</h1>"
            f"<div>{escape(report.school.name)}</div></div>"
            f'<div class="state">Status: <b>{escape(event.status.value.replace("_", " "))}'
            f'</b><div class="muted">event {escape(str(event.id))}<br>computed at '
            f"{escape(local(report.computed_at, tz))}<br>from the stored timeline, check-ins,"
            f"<br>alerts and acknowledgements; times in {escape(report.school.timezone)}"
            "</div></div></header>"
            '<dl class="facts">'
            + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")


def _banner(report: EventReport, tz: tzinfo) -> str:
    if not report.partial:
        return ""
    return ('<div class="banner" role="status">IN PROGRESS: a partial report as of '
            f"{escape(local(report.computed_at, tz))}. The event is still active; these "
            "figures change until it ends, and the record is kept then.</div>")


def _figures(t: TimingRecord) -> str:
    cells = [f'<div class="figure"><div class="l">{escape(f.label)}</div>'
             f'<div class="v{" why" if f.missing else ""}">{escape(f.value)}</div>'
             f'<div class="n">{escape(f.note) or "&nbsp;"}</div></div>' for f in figures(t)]
    return f'<div class="figures">{"".join(cells)}</div>'


def _room(code: str, name: str, *, listed: bool = False) -> str:
    """A room by its code and name (in a list, the code bold; in the table, the name
    grey), or once where the school named it by its code ("Gym", "Gym")."""
    shown, named = ((f"<b>{escape(code)}</b>", escape(name)) if listed
                    else (escape(code), f'<span class="name">{escape(name)}</span>'))
    return shown if name == code else f"{shown} {named}"


def _room_table(rooms: list[RoomTiming], people: dict) -> str:
    """Rooms that reported, each with its note (if its latest report has one) on a row of
    its own beneath it, the two kept together on one page. Long names and notes wrap;
    nothing is cut off."""
    head = "".join(
        ('<th class="n">' if numeric else "<th>")
        + (f'<abbr title="{meaning}">{words}</abbr>' if meaning else words) + "</th>"
        for words, meaning, numeric in _HEADINGS)
    rows = []
    for room in rooms:
        code, name, after, _, *counts, reporter = room_cells(room, people)
        status_class = " help" if room.status == "needs_help" else ""
        row = (f'<tr><td class="room">{_room(code, name)}</td>'
               f'<td class="n">{escape(after)}</td>'
               f'<td class="status{status_class}">{escape(_STATUS[room.status])}</td>'
               + "".join(f'<td class="n">{escape(c)}</td>' for c in counts)
               + f'<td class="who">{escape(reporter)}</td></tr>')
        if room.note:
            row = (f'<tbody class="noted">{row}<tr class="note"><td colspan="{len(_HEADINGS)}">'
                   f'<b>Note:</b> <span class="text">{escape(room.note)}</span></td></tr></tbody>')
        else:
            row = f"<tbody>{row}</tbody>"
        rows.append(row)
    return f"<table><thead><tr>{head}</tr></thead>{''.join(rows)}</table>"


def _rooms(t: TimingRecord, people: dict) -> str:
    """The rooms that reported (those that did not are listed once, after them)."""
    if not t.rooms:
        return '<h2>Rooms</h2><p class="muted">This school has no rooms on record.</p>'
    heading = (f"<h2>Rooms that reported ({t.rooms_reported} of {t.rooms_total}) "
               '<span class="key">after: m:ss from the start to its first report; the rest: '
               "its latest report; pres./miss./extra: students; inj.: injured</span></h2>")
    reported = [r for r in t.rooms if r.status is not None]
    if not reported:
        return heading + '<p class="never">No room has reported.</p>'
    if len(reported) <= _ONE_COLUMN_ROOMS:
        return heading + _room_table(reported, people)
    half = (len(reported) + 1) // 2
    return (f'{heading}<div class="rooms">{_room_table(reported[:half], people)}'
            f"{_room_table(reported[half:], people)}</div>")


def _unreported(t: TimingRecord) -> str:
    if not t.rooms_total:
        return ""
    if not t.unreported_rooms:
        return "<h2>Unreported rooms</h2><p>None: every room reported.</p>"
    items = "".join(f"<li>{_room(r.code, r.name, listed=True)}</li>"
                    for r in t.unreported_rooms)
    return (f"<h2>Unreported rooms ({len(t.unreported_rooms)})</h2>"
            f'<ul class="inline never">{items}</ul>')


def _after_action(report: EventReport, tz: tzinfo) -> str:
    notes = report.after_action
    if notes is None:
        later = " They are written once the event has ended." if report.partial else ""
        return f'<h2>After-action notes</h2><p class="muted">None recorded yet.{later}</p>'
    edited = (f"revision {notes.revision}, by {report.people.get(notes.edited_by, '?')} at "
              f"{local(notes.edited_at, tz)}")
    return (f'<h2>After-action notes <span class="key">{escape(edited)}</span></h2>'
            f'<div class="halves"><div>{_notes_facts(notes, report, tz)}{_observers(notes)}'
            f"</div><div>{_problems(notes)}"
            + _long_text("Lessons learned", notes.lessons_learned)
            + _long_text("After-action report", notes.report)
            + "</div></div>")


def _notes_facts(notes: AfterActionRevision, report: EventReport, tz: tzinfo) -> str:
    scheduled = NEVER
    if notes.scheduled_at is not None:
        late = (report.event.started_at - notes.scheduled_at).total_seconds()
        scheduled = (f"{escape(local(notes.scheduled_at, tz))} (started "
                     f"{duration(abs(late))} {'after' if late >= 0 else 'before'} that)")
    p = notes.participants
    counted = [f"{n} {what}" for n, what in ((p.students, "students"), (p.staff, "staff"),
                                             (p.visitors, "visitors")) if n is not None]
    facts = [("Scheduled", scheduled),
             ("During", escape(notes.during.value) if notes.during else NEVER),
             ("Participants", escape(", ".join(counted)) or NEVER),
             ("Notified by", escape(notes.notification_method or NEVER))]
    return '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def _observers(notes: AfterActionRevision) -> str:
    if not notes.observers:
        return '<p class="muted">No observers recorded.</p>'
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(v or '')}</td>"
                         for v in (o.name, o.agency, o.role, o.certification)) + "</tr>"
        for o in notes.observers)
    return ("<table><thead><tr><th>Observer</th><th>Agency</th><th>Role</th>"
            f"<th>Certification</th></tr></thead><tbody>{rows}</tbody></table>")


def _problems(notes: AfterActionRevision) -> str:
    if not notes.problems:
        return "<p><b>Problems found:</b> none.</p>"
    items = "".join(
        f"<li><b>{escape(p.kind.value.replace('_', ' '))}</b>"
        + (f": {escape(p.detail)}" if p.detail else "") + "</li>" for p in notes.problems)
    return f"<p><b>Problems found:</b></p><ul>{items}</ul>"


def _long_text(heading: str, text: str | None) -> str:
    if not text:
        return ""
    return f'<p><b>{heading}:</b> <span class="text">{escape(text)}</span></p>'


def _signoff() -> str:
    """A line each for whoever reviews the printed copy to write their name and title, sign
    and date (the page's style prints them, and shows them only in print)."""
    return ('<section class="signoff"><b>Reviewed by</b>Name and title'
            '<span class="blank"></span>Signature<span class="blank"></span>'
            'Date<span class="blank date"></span></section>')


# --- the chart ---------------------------------------------------------------------------


def _tick_step(span: float) -> int:
    """A round step giving at most 8 ticks across `span` seconds."""
    return next((s for s in _STEPS if span / s <= 8), _STEPS[-1])


def chart(t: TimingRecord) -> str:
    """Cumulative shares over time (rooms reported of all rooms, alerts handed off of all
    alerts, acknowledgements of all recipients), with the action changes and the end."""
    firsts = sorted(r.time_to_report_s for r in t.rooms if r.time_to_report_s is not None)
    series = list(zip(_SERIES, (
        (firsts, t.rooms_total, "rooms"),
        (t.chart.handoffs_s, t.alerts, "alerts"),
        (t.chart.acknowledgements_s, t.recipients, "people")), strict=True))
    latest = max([t.as_of_s, 1.0, *firsts, *t.chart.handoffs_s, *t.chart.acknowledgements_s])
    step = _tick_step(latest)
    span = step * -(-latest // step)

    def x(s: float) -> float:
        return round(_LEFT + (_RIGHT - _LEFT) * s / span, 1)

    def y(share: float) -> float:
        return round(_BOTTOM - (_BOTTOM - _TOP) * share, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
             'aria-labelledby="chart-title" font-family="Helvetica, Arial, sans-serif" '
             'font-size="10">',
             '<title id="chart-title">Rooms reported, alerts handed off and acknowledgements '
             "over the seconds since the start</title>"]
    for pct in (0, 25, 50, 75, 100):  # y grid and labels
        parts.append(f'<line x1="{_LEFT}" y1="{y(pct / 100)}" x2="{_RIGHT}" y2="{y(pct / 100)}" '
                     f'stroke="{"#111" if pct == 0 else "#ddd"}" stroke-width="1"/>'
                     f'<text x="{_LEFT - 4}" y="{y(pct / 100) + 3.5}" text-anchor="end">'
                     f"{pct} %</text>")
    for n in range(int(span // step) + 1):  # x ticks and labels
        at = x(n * step)
        parts.append(f'<line x1="{at}" y1="{_BOTTOM}" x2="{at}" y2="{_BOTTOM + 4}" '
                     f'stroke="#111"/><text x="{at}" y="{_BOTTOM + 15}" text-anchor="middle">'
                     f"{duration(n * step)}</text>")
    parts.append(f'<text x="{(_LEFT + _RIGHT) / 2}" y="{_BOTTOM + 29}" text-anchor="middle" '
                 'fill="#444">time since the start (m:ss)</text>')
    parts += _marker_lines(t, x)
    for (_, colour, dash), (times, total, _) in series:
        if total:
            parts.append(_step_path(times, total, t.as_of_s, x, y, colour, dash))
    parts += _legend(series)
    parts.append("</svg>")
    return "".join(parts)


def _step_path(times: list[float], total: int, until: float, x, y, colour: str,
               dash: str) -> str:
    """A cumulative step curve: flat at each share until the next event, on to `until`."""
    d = [f"M{x(0)} {y(0)}"]
    for n, s in enumerate(sorted(times), 1):
        d.append(f"H{x(s)} V{y(min(n / total, 1))}")
    d.append(f"H{x(max(until, times[-1] if times else 0))}")
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<path d="{" ".join(d)}" fill="none" stroke="{colour}" stroke-width="2.2"'
            f'{dash_attr} stroke-linejoin="round"/>')


# How each kind of marker is drawn: colour, line width, dash pattern.
_MARKER_STYLE = {"action": ("#666", 1, "3 3"), "end": ("#b00", 1.6, ""),
                 "now": ("#9a6700", 1.2, "1 2")}


def _marker_lines(t: TimingRecord, x) -> list[str]:
    """A vertical line for each action (grey), the end (red) or, while the event is active,
    now; labelled at the top, in two alternating rows so that close labels do not overlap."""
    marks = [(m.at_s, m.label.replace("_", " "), "end" if m.kind is MarkerKind.END else "action")
             for m in t.chart.markers]
    if t.duration_s is None:
        marks.append((t.as_of_s, "now", "now"))
    parts = []
    for n, (at_s, label, kind) in enumerate(marks):
        at, (colour, width, dash) = x(at_s), _MARKER_STYLE[kind]
        anchor = "end" if at > _RIGHT - 80 else "start"
        shift = -3 if anchor == "end" else 3
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{at}" y1="{_TOP - 14 + 10 * (n % 2)}" x2="{at}" y2="{_BOTTOM}" '
            f'stroke="{colour}" stroke-width="{width}"{dash_attr}/>'
            f'<text x="{at + shift}" y="{_TOP - 16 + 10 * (n % 2)}" text-anchor="{anchor}" '
            f'fill="{colour}" font-weight="700">{escape(label)}</text>')
    return parts


def _legend(series) -> list[str]:
    parts: list[str] = []
    left: float = _LEFT
    for (words, colour, dash), (times, total, unit) in series:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        text = f"{words} ({len(times)} of {total} {unit})" if total else f"{words} (none)"
        parts.append(f'<line x1="{left}" y1="{_H - 8}" x2="{left + 26}" y2="{_H - 8}" '
                     f'stroke="{colour}" stroke-width="2.2"{dash_attr}/>'
                     f'<text x="{left + 31}" y="{_H - 4.5}">{escape(text)}</text>')
        left += 50 + 5.2 * len(text)
    return parts
