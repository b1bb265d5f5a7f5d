// A contact's read-only link: the event as the server sent it, then read again from
// /v1/watch/<token> every few seconds while it is active. It writes nothing; the token
// in the page's address is the only credential, and no cookie is sent.
"use strict";

(() => {
  const data = JSON.parse(document.getElementById("watch-data").textContent);
  const $ = (id) => document.getElementById(id);
  const ENDED = { all_clear: "All clear", cancelled: "Cancelled",
                  superseded: "Replaced by a newer alert" };
  // by the school's clocks, with the zone: a dispatcher elsewhere reads it right
  const time = (iso) => new Date(iso).toLocaleTimeString("en-US", {
    hour: "numeric", minute: "2-digit", timeZone: data.view.timezone, timeZoneName: "short" });

  function item(tag, text, className) {
    const node = document.createElement(tag);
    node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function total(label, value, alarm) {
    const row = item("div", "", alarm && value ? "alarm" : "");
    row.append(item("dt", label), item("dd", String(value)));
    return row;
  }

  function room(r) {
    const counts = [`${r.students_missing} missing`, `${r.injured} injured`,
                    `${r.students_present} present`].join(", ");
    const li = document.createElement("li");
    li.append(item("strong", `${r.code} · ${r.name}`), item("span", counts));
    for (const words of [r.location && `At: ${r.location}`, r.note]) {
      if (words) li.append(item("div", words));
    }
    li.append(item("div", `Reported ${time(r.reported_at)}`, "muted"));
    return li;
  }

  function update(u) {
    const li = item("li", `${time(u.at)}: ${u.text}`);
    if (u.threat_location) li.append(item("div", `Threat: ${u.threat_location}`));
    return li;
  }

  function show(v) {
    const active = v.status === "active";
    $("action").textContent = v.action.toUpperCase();
    $("directive").textContent = v.directive;
    $("message").textContent = v.message || "";
    $("status").textContent = active ? "Active" : `Ended: ${ENDED[v.status]}`;
    $("status").className = active ? "status" : "status ended";
    $("times").textContent = `Started ${time(v.started_at)}` +
      (v.ended_at ? ` · ended ${time(v.ended_at)}` : "");
    $("totals").replaceChildren(total("Missing", v.students.missing, true),
                                total("Injured", v.students.injured, true),
                                total("Present", v.students.present),
                                total("Extra", v.students.extra));
    $("reported").textContent = `${v.rooms_reported} of ${v.rooms_total} rooms reported`;
    $("in-need").replaceChildren(...(v.rooms_needing_help.length
      ? v.rooms_needing_help.map(room) : [item("li", "None so far.", "muted")]));
    $("unreported").textContent = v.rooms_not_reported.length
      ? v.rooms_not_reported.map((r) => r.code).join(", ") : "Every room has reported.";
    $("updates").replaceChildren(...(v.updates.length
      ? v.updates.slice().reverse().map(update) : [item("li", "Nothing yet.", "muted")]));
  }

  async function poll() {
    try {
      const response = await fetch(data.api, { credentials: "omit", cache: "no-store" });
      if (response.status === 404 || response.status === 410) {
        $("refreshed").textContent = "This link no longer works.";
        return;
      }
      if (response.ok) {
        data.view = await response.json();
        show(data.view);
        $("refreshed").textContent = `Updated ${time(new Date().toISOString())}`;
      }
    } catch {
      $("refreshed").textContent = "No connection: showing the last update.";
    }
    if (data.view.status === "active") setTimeout(poll, data.poll_s * 1000);
  }

  show(data.view);
  if (data.view.status === "active") setTimeout(poll, data.poll_s * 1000);
})();
