// An event's live dashboard. The server rendered it as of the timeline's entry `seq`;
// this script follows the event's stream (Server-Sent Events) from there and applies each
// later entry exactly once: an entry's SSE id is its seq, so anything at or below the last
// seq applied (the replay a new or resumed stream starts with) is skipped.
"use strict";

(() => {
  const start = Muster.data("dashboard");
  const d = start.dashboard;
  const eventId = d.event.id;
  const tz = d.school.timezone;
  const $ = (id) => document.getElementById(id);

  let seq = d.seq; // the last timeline entry this page shows
  let event = d.event;
  const names = new Map(); // person id -> name: the staff list (leads), the timeline's
  const rooms = new Map(); // room id -> {room, checkin}
  for (const r of d.rooms || []) rooms.set(r.room.id, r);

  // --- time: the server's clock at render, carried forward by this page's own clock ---
  const renderedAt = performance.now();
  const serverNow = () => Date.parse(d.now) + (performance.now() - renderedAt);

  function clock(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
  }

  function localTime(iso) {
    return new Date(iso).toLocaleTimeString("en-US", { timeZone: tz });
  }

  function tick() {
    const end = event.ended_at ? Date.parse(event.ended_at) : serverNow();
    $("elapsed").textContent = clock((end - Date.parse(event.started_at)) / 1000);
  }

  // --- a room's current report: the newest observation wins (domain/checkins.py) ---
  // Instants are compared to the microsecond: "2026-12-03T17:00:00.123456Z".
  function micros(iso) {
    const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(iso);
    return Date.parse(m[1] + m[3]) * 1000 + Number((m[2] || "").padEnd(6, "0").slice(0, 6));
  }

  function supersedes(next, current) {
    const order = (c) => [micros(c.observed_at), micros(c.received_at), c.client_id];
    const a = order(next), b = order(current);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
    return false;
  }

  // --- rendering what changed ---
  const actionName = (a) => a.charAt(0).toUpperCase() + a.slice(1).replace("_", " ");

  function counts(c) {
    const parts = [`${c.students_present} present`];
    if (c.students_missing) parts.push(`${c.students_missing} missing`);
    if (c.students_extra) parts.push(`${c.students_extra} extra`);
    if (c.injured) parts.push(`${c.injured} injured`);
    return parts.join(" · ");
  }

  const STATUS = { ok: ["✓", "Safe"], needs_help: ["⚠", "Needs help"], unreported: ["○", "Not reported"] };

  function statusOf(r) {
    return r.checkin ? r.checkin.status : "unreported";
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function drawRoom(r) {
    const li = $(`room-${r.room.id}`);
    if (!li) return;
    const status = statusOf(r);
    li.dataset.status = status;
    const label = li.querySelector(".room-status");
    label.replaceChildren(el("span", STATUS[status][0]), ` ${STATUS[status][1]}`);
    label.firstChild.setAttribute("aria-hidden", "true");
    li.querySelector(".room-counts").textContent = r.checkin ? counts(r.checkin) : "";
  }

  function drawTotals() {
    if (!d.rooms) return;
    const all = [...rooms.values()];
    const reports = all.filter((r) => r.checkin).map((r) => r.checkin);
    const sum = (field) => reports.reduce((total, c) => total + c[field], 0);
    const help = all.filter((r) => statusOf(r) === "needs_help");
    const unreported = all.filter((r) => !r.checkin);
    $("t-help").textContent = help.length;
    $("tile-help").toggleAttribute("data-alert", help.length > 0);
    $("t-safe").textContent = reports.length - help.length;
    $("t-unreported").textContent = unreported.length;
    $("t-rooms").textContent = all.length;
    $("t-present").textContent = sum("students_present");
    $("t-missing").textContent = sum("students_missing");
    $("t-extra").textContent = sum("students_extra");
    $("t-injured").textContent = sum("injured");

    $("help-section").hidden = help.length === 0;
    $("help-rooms").replaceChildren(...help.map((r) => {
      const c = r.checkin, li = el("li");
      let text = ` ${r.room.name}: ${counts(c)}`;
      if (c.location) text += ` · at ${c.location}`;
      if (c.note) text += ` · “${c.note}”`;
      li.append(el("strong", r.room.code), text);
      return li;
    }));
    $("unreported-rooms").replaceChildren(...unreported.map((r) => {
      const li = el("li", `${r.room.code} `);
      li.append(el("span", r.room.name, "muted"));
      return li;
    }));
    $("all-reported").hidden = unreported.length > 0;
  }

  function drawEvent() {
    $("action").textContent = actionName(event.action);
    document.title = `${event.status !== "active" ? "Ended · " : ""}${event.drill ? "DRILL · " : ""}${actionName(event.action)} · ${d.school.name} · Muster`;
    $("directive").textContent = event.directive;
    $("message").textContent = event.message || "";
    $("message").hidden = !event.message;
    const details = [];
    if (event.location) {
      details.push(`${event.action === "lockdown" ? start.threat_word : "Go to"}: ${event.location}.`);
    }
    if (event.hazard) details.push(`Hazard: ${event.hazard}.`);
    if (event.strategy) details.push(event.strategy);
    $("details").textContent = details.join(" ");
    $("details").hidden = details.length === 0;
    if (event.status !== "active") {
      $("ended-what").textContent = start.ends[event.status] || event.status;
      $("ended-at").textContent = event.ended_at ? localTime(event.ended_at) : "";
      $("end-reason").textContent = event.end_reason || "";
      $("elapsed-label").textContent = "lasted";
      $("ended").hidden = false;
      if (event.status === "superseded") showRealEvent();
    }
    for (const controls of document.querySelectorAll("[data-event-controls]")) {
      controls.hidden = event.status !== "active";
    }
    tick();
  }

  // a real event ended this drill: it started as the drill ended, and is the school's
  // oldest real event since
  async function showRealEvent() {
    const since = encodeURIComponent(event.ended_at);
    try {
      const page = await Muster.api(`/v1/schools/${d.school.id}/events?drill=false&since=${since}&limit=500`);
      const real = page.items[page.items.length - 1];
      if (!real) return;
      $("real-event").querySelector("a").href = `/events/${real.id}`;
      $("real-event").hidden = false;
    } catch (error) {
      // the drill's page still says how it ended; the school's page lists the real event
    }
  }

  // --- what we know: the event's updates, newest first and the newest standing out ---
  const updates = d.updates.slice();

  function drawUpdates() {
    $("updates-section").hidden = updates.length === 0;
    $("updates").replaceChildren(...updates.map((u, n) => {
      const li = el("li", undefined, n === 0 ? "update latest" : "update");
      const at = el("time", localTime(u.posted_at));
      at.dateTime = u.posted_at;
      li.append(at, " ");
      if (u.threat_location) li.append(el("strong", `${start.threat_word}: ${u.threat_location}.`, "update-threat"), " ");
      li.append(el("span", u.text, "update-text"));
      return li;
    }));
  }

  function applyUpdate(update) {
    updates.unshift(update);
    drawUpdates();
  }

  // --- staff reporting themselves: the figures (and, for leads, the names) are read
  // again from accountability after each report, at most one read at a time, and (in a
  // storm of check-ins naming students) at most one a second: the reports meanwhile are
  // all in the next read ---
  const STAFF = { safe: "safe", need_help: "NEEDS HELP", not_with_students: "not with students", off_site: "off site" };
  const READ_EVERY_MS = 1000;
  let staffReading = null, staffAgain = false, lastRead = -Infinity;

  function drawStaff(staff) {
    for (const [status, count] of Object.entries(staff.by_status)) $(`t-staff-${status}`).textContent = count;
    $("tile-staff-help").toggleAttribute("data-alert", staff.by_status.need_help > 0);
    $("t-staff-unreported").textContent = staff.total - staff.reported;
    $("t-staff").textContent = staff.total;
    if (!staff.not_reported) return;
    $("staff-unreported").replaceChildren(...staff.not_reported.map((p) => el("li", p.name || "")));
    $("staff-all-reported").hidden = staff.not_reported.length > 0;
    $("staff-help").replaceChildren(...staff.reports.filter((r) => r.status === "need_help").map((r) => {
      const li = el("li", undefined, "needs-help");
      li.append(el("strong", r.name || ""), ` needs help${r.note ? ` · “${r.note}”` : ""}`);
      return li;
    }));
  }

  // --- students by name: missing ones with their last known room, read again with the
  // staff's figures after each report; each room's roll on its card ---
  function roll(x) {
    if (!x || !(x.expected || x.named)) return "";
    const parts = [`Roll call: ${x.accounted} seen`];
    const others = [[x.missing, "missing"], [x.absent, "absent"], [x.injured, "injured"],
      [x.not_reported, "not reported"]];
    for (const [n, word] of others) {
      if (n) parts.push(`${n} ${word}`);
    }
    return parts.join(" · ");
  }

  function drawRollCall(call) {
    if (!$("students-section")) return;
    const where = (m) => (m.last_room ? `${m.last_room.code} ${m.last_room.name}` : "unknown");
    $("students-section").hidden = !call.expected && !call.rooms.length;
    $("s-missing").textContent = call.missing.length;
    $("tile-s-missing").toggleAttribute("data-alert", call.missing.length > 0);
    $("s-accounted").textContent = call.accounted;
    $("s-expected").textContent = call.expected;
    $("s-injured").textContent = call.injured.length;
    $("s-absent").textContent = call.absent;
    $("s-not-reported").textContent = call.not_reported;
    $("missing-students").replaceChildren(...call.missing.map((m) => {
      const li = el("li", undefined, "needs-help");
      li.append(el("strong", m.name));
      if (m.grade) li.append(" ", el("span", `grade ${m.grade}`, "muted"));
      li.append(` · last seen: ${where(m)}`);
      return li;
    }));
    $("none-missing").hidden = call.missing.length > 0;
    const rolls = new Map(call.rooms.map((x) => [x.room_id, x]));
    for (const li of document.querySelectorAll("li.room")) {
      li.querySelector(".room-roll").textContent = roll(rolls.get(li.id.slice("room-".length)));
    }
    $("injured-title").hidden = call.injured.length === 0;
    $("injured-students").replaceChildren(...call.injured.map((m) => {
      const li = el("li");
      li.append(el("strong", m.name), ` · in ${where(m)}`);
      return li;
    }));
  }

  function applyStaffStatus() {
    if (!d.staff) return true;
    if (staffReading) {
      staffAgain = true;
      return true;
    }
    const wait = Math.max(0, lastRead + READ_EVERY_MS - Date.now());
    staffReading = new Promise((waited) => setTimeout(waited, wait))
      .then(() => {
        lastRead = Date.now();
        return Muster.api(`/v1/events/${eventId}/accountability`);
      })
      .then((answer) => { drawStaff(answer.staff); drawRollCall(answer.roll_call); })
      .catch(() => { /* the figures stay as they were; the next report reads them again */ })
      .finally(() => {
        staffReading = null;
        if (staffAgain) {
          staffAgain = false;
          applyStaffStatus();
        }
      });
    return true;
  }

  // --- the timeline, newest first ---
  function describe(type, detail) {
    switch (type) {
      case "started":
        return `Started: ${actionName(detail.action)}${detail.drill ? " (drill)" : " (real event)"}`;
      case "action":
        return `Action changed to ${actionName(detail.action)}: ${detail.directive}`;
      case "status":
        if (detail.id !== eventId) return `${actionName(detail.action)} ${detail.status.replace("_", " ")}`;
        if (detail.status === "active") return describe("started", detail);
        return `${start.ends[detail.status] || detail.status}${detail.end_reason ? `: ${detail.end_reason}` : ""}`;
      case "checkin": {
        const r = rooms.get(detail.room_id);
        const where = r ? `${r.room.code} ${r.room.name}` : "A room";
        const how = detail.status === "ok" ? "safe" : "NEEDS HELP";
        return `${where}: ${how}, ${counts(detail)}`;
      }
      case "delivery":
        if (detail.milestone === "handed_off") return `Alerts handed off: ${detail.sent} sent, ${detail.failed} failed`;
        return "Alert delivery";
      case "ack":
        return "Alert acknowledged";
      case "assist": { // a room's request for help (docs/assists.md), as it now is
        const r = rooms.get(detail.room_id);
        const where = r ? `${r.room.code} ${r.room.name}` : "A room";
        if (detail.resolved_at) return `Help for ${where} resolved: ${detail.outcome}`;
        const coming = detail.responses.map((x) => x.name).join(", ");
        return `Help for ${where}: ${coming ? `on the way: ${coming}` : "responders alerted"}`;
      }
      case "update":
        return `Update: ${detail.threat_location ? `${start.threat_word}: ${detail.threat_location}. ` : ""}${detail.text}`;
      case "staff_status":
        return `Reported themselves ${STAFF[detail.status] || detail.status}${detail.note ? ` · “${detail.note}”` : ""}`;
      default:
        return type;
    }
  }

  function entryTime(type, detail) {
    if (type === "checkin") return detail.received_at;
    if (type === "update") return detail.posted_at;
    if (type === "staff_status") return detail.reported_at;
    if ((type === "status" || type === "started") && detail.id === eventId) {
      return detail.ended_at || detail.started_at;
    }
    return null;
  }

  function addEntry(entrySeq, type, detail, at, actorId, note = "") {
    const li = el("li");
    li.dataset.seq = entrySeq;
    li.dataset.kind = type;
    if ((type === "checkin" && detail.status === "needs_help") ||
        (type === "staff_status" && detail.status === "need_help")) li.className = "needs-help";
    const who = actorId && names.get(actorId);
    li.append(el("time", localTime(at || new Date(serverNow()).toISOString())),
              ` ${describe(type, detail)}${note}${who ? ` — ${who}` : ""}`);
    $("timeline").prepend(li);
  }

  function actorOf(type, detail) {
    if (type === "checkin") return detail.reported_by;
    if (type === "update") return detail.posted_by;
    if (type === "staff_status") return detail.user_id;
    if (type === "status" && detail.id === eventId) return detail.ended_by || detail.started_by;
    return null;
  }

  // --- one stream message: applied once, in seq order ---
  // whether the report is now its room's (a queued report observed before the room's
  // current one is kept on the timeline, not on the room)
  function applyCheckin(checkin) {
    const r = rooms.get(checkin.room_id);
    if (!r) return true; // added after this page opened: the timeline still shows it
    if (r.checkin && !supersedes(checkin, r.checkin)) return false;
    r.checkin = checkin;
    drawRoom(r);
    drawTotals();
    // the students' figures are the server's (a sighting elsewhere wins over missing here):
    // read again, coalesced with the staff's, while the school has a roll call to show
    const roll = $("students-section");
    if (roll && (!roll.hidden || (checkin.students || []).length)) applyStaffStatus();
    return true;
  }

  function applyEvent(detail) {
    if (detail.id !== eventId) return; // a drill this real event ended
    event = detail;
    drawEvent();
  }

  const APPLY = {
    checkin: applyCheckin, action: applyEvent, status: applyEvent, delivery: refreshDeliveries,
    update: applyUpdate, staff_status: applyStaffStatus, assist: () => true,
  };

  function onMessage(message) {
    const entrySeq = Number(message.lastEventId);
    if (!(entrySeq > seq)) return; // shown already: the page or a resumed stream's replay
    seq = entrySeq;
    const detail = JSON.parse(message.data);
    const current = APPLY[message.type](detail) !== false;
    addEntry(entrySeq, message.type, detail, entryTime(message.type, detail),
             actorOf(message.type, detail), current ? "" : " (observed before the room's current report)");
  }

  // --- delivery figures (leads): receipts and acknowledgements are not all on the stream ---
  let refreshing = false;
  async function refreshDeliveries() {
    if (!d.deliveries || refreshing) return;
    refreshing = true;
    try {
      const answer = await Muster.api(`/v1/events/${eventId}/deliveries?limit=1`);
      const rows = Object.entries(answer.channels).sort(([a], [b]) => a.localeCompare(b));
      $("deliveries").replaceChildren(...(rows.length ? rows.map(([channel, c]) => {
        const li = el("li");
        li.append(el("strong", channel === "push" ? "Push" : channel.toUpperCase()),
                  `: ${c.sent + c.delivered} sent · ${c.delivered} delivered · ${c.failed} failed · ` +
                  `${c.queued} waiting · ${c.acknowledged} acknowledged`);
        return li;
      }) : [el("li", "No alert sent yet.", "muted")]));
    } catch (error) {
      // the figures stay as they were; the next refresh tries again
    } finally {
      refreshing = false;
    }
  }

  // --- the stream, and the small "live / reconnecting" line ---
  function showLive(state, text) {
    const live = $("live");
    if (live.dataset.state === state && live.textContent === text) return;
    live.dataset.state = state;
    live.textContent = text;
  }

  const RETRY_MS = 5000;
  let source = null;

  function connect() {
    // after what the page shows already; the browser's own reconnections send
    // Last-Event-ID, which the server takes over this
    source = new EventSource(`/v1/events/${eventId}/stream?after=${seq}`);
    source.onopen = () => showLive("live", "Live");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // refused (a bound on streams, a restart): a new stream starts after what is
        // shown
        showLive("reconnecting", "Reconnecting…");
        setTimeout(connect, RETRY_MS);
      } else {
        showLive("reconnecting", "Reconnecting…"); // the browser resumes after the last id
      }
    };
    for (const type of Object.keys(APPLY)) source.addEventListener(type, onMessage);
    source.addEventListener("end", (message) => {
      source.close();
      const { reason } = JSON.parse(message.data);
      showLive("ended", reason === "access_ended" ? "Not live: you no longer have access to this school."
        : "Not live: your sign-in ended. Reload the page to sign in again.");
    });
  }

  // the event's controls changed it: no reload, the change comes on the stream like
  // anyone else's (so it is applied once, in order); the form that sent it closes
  document.addEventListener("muster:event-changed", (changed) => {
    changed.preventDefault();
    for (const open of changed.target.querySelectorAll("details[open]")) open.open = false;
  });

  for (const [id, name] of Object.entries(d.people)) names.set(id, name);
  for (const entry of d.timeline) {
    if (entry.actor_id && entry.actor_name) names.set(entry.actor_id, entry.actor_name);
  }
  for (const entry of d.timeline) {
    addEntry(entry.seq, entry.kind, entry.detail, entry.at, entry.actor_id);
  }
  drawEvent();
  setInterval(tick, 1000);
  setInterval(() => { if (event.status === "active") refreshDeliveries(); }, 15000);
  connect();
})();
