// An alert's link: acknowledge on opening, report the room, and keep a report made
// without a connection on this phone until it is sent (retried, backing off). The token
// in the page's address is the only credential; no cookie is sent.
"use strict";

(() => {
  // the page as the server sent it, kept below for reopening offline (not fetched again)
  const served = "<!doctype html>\n" + document.documentElement.outerHTML;
  const data = JSON.parse(document.getElementById("link-data").textContent);
  const key = "muster.link." + data.token;
  const $ = (id) => document.getElementById(id);
  // the page's words in the person's language, "{room}" and "{time}" filled in here
  const say = (name, fill = {}) => data.words[name].replace(/\{(\w+)\}/g, (_, k) => fill[k]);
  // by the school's clocks, as the dashboard and the report show times
  const time = (iso) => new Date(iso).toLocaleTimeString([], {
    hour: "2-digit", minute: "2-digit", timeZone: data.timezone });

  // What this phone keeps: the acknowledgement and the reports not yet sent.
  const kept = (() => {
    try { return JSON.parse(localStorage.getItem(key)) || {}; } catch { return {}; }
  })();
  kept.reports = kept.reports || [];
  const keep = () => {
    try { localStorage.setItem(key, JSON.stringify(kept)); } catch { /* private mode */ }
  };

  async function post(path, body) {
    if (!navigator.onLine) return { status: 0 };  // no connection at all: wait for one
    const response = await fetch(data.api + path, {
      method: "POST", credentials: "omit", cache: "no-store",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  // ---- sending, with retries: a network error or a 5xx waits and tries again
  let delay = 1000, timer = null;
  const retryable = (status) => status === 0 || status === 429 || status >= 500;

  // one pass at a time: a second (the `online` event during a send) waits for the first
  let running = null;
  function flush() {
    running = running || drain().finally(() => { running = null; });
    return running;
  }

  async function drain() {
    clearTimeout(timer);
    timer = null;
    try {
      if (kept.ack === "pending") await sendAck();
      while (kept.reports.length) await sendReport(kept.reports[0]);
      delay = 1000;
    } catch (error) {
      if (!retryable(error.status || 0)) throw error;
      timer = setTimeout(flush, delay);
      delay = Math.min(delay * 2, 60000);
    }
    show();
  }

  async function sendAck() {
    const answer = await post("/ack").catch(() => ({ status: 0 }));
    if (!retryable(answer.status)) {
      kept.ack = answer.status === 204 ? "sent" : "refused";
      keep();
      return;
    }
    throw Object.assign(new Error("not sent"), { status: answer.status });
  }

  async function sendReport(report) {
    const answer = await post("/checkins", report.body).catch(() => ({ status: 0 }));
    if (retryable(answer.status)) {
      throw Object.assign(new Error("not sent"), { status: answer.status });
    }
    kept.reports = kept.reports.filter((other) => other !== report);
    if (answer.status === 200 || answer.status === 201) {
      kept.last = { room: report.room, at: answer.body.received_at };
    } else {
      kept.last = { room: report.room, refused: (answer.body && answer.body.detail) || "refused" };
    }
    keep();
  }

  // ---- what the page says
  function show() {
    $("ack-status").textContent = kept.ack === "sent" ? say("ack_sent")
      : kept.ack === "pending" ? say("ack_pending") : "";
    const sent = $("sent");
    sent.replaceChildren();
    const line = (text, cls) => {
      const p = document.createElement("p");
      p.textContent = text;
      if (cls) p.className = cls;
      sent.append(p);
    };
    for (const report of kept.reports) {
      line(say("pending", { room: report.room }), "card pending");
    }
    if (!kept.reports.length && !kept.last) {  // sent before, from this phone or another
      for (const report of data.reports) {
        line(say("stored", { room: report.room, time: time(report.at) }), "card done");
      }
    }
    if (!kept.reports.length && kept.last) {
      const room = kept.last.room;
      if (kept.last.refused) line(`${say("refused", { room })} ${kept.last.refused}`, "card error");
      else line(say("stored_now", { room, time: time(kept.last.at) }), "card done");
    }
  }

  // ---- the form
  const rooms = data.rooms;
  $("rooms").append(...rooms.map((r) => new Option(`${r.code} · ${r.name}`)));
  const findRoom = (text) => {
    const wanted = text.trim().toLowerCase();
    return rooms.find((r) => [r.code, r.name, `${r.code} · ${r.name}`]
      .some((n) => n.toLowerCase() === wanted));
  };
  let status = null;
  for (const [id, value] of [["safe", "ok"], ["help", "needs_help"]]) {
    $(id).addEventListener("click", () => {
      status = value;
      $("safe").setAttribute("aria-pressed", String(value === "ok"));
      $("help").setAttribute("aria-pressed", String(value === "needs_help"));
    });
  }
  for (const button of document.querySelectorAll(".step")) {
    button.addEventListener("click", () => {
      const input = $(button.dataset.for);
      input.value = Math.max(0, (parseInt(input.value, 10) || 0) + Number(button.dataset.by));
    });
  }

  // ---- the roll call: the room's students (those it had when the event started), one
  // tap each. "All present" first, then a tap on each exception: present -> missing ->
  // absent -> injured -> present. A student from another room is found by name and
  // added as an extra. The counts are the marks' while the room has a list. The list is
  // kept on this phone, so that the page reopened without a connection still has it.
  const STATUSES = data.words.statuses;
  const NEXT = { "": "present", present: "missing", missing: "absent", absent: "injured",
                 injured: "present", extra: "injured" };
  const NEXT_EXTRA = { extra: "injured", injured: "extra" };
  kept.rolls = kept.rolls || {};
  let roll = null;  // { roomId, students: [{ student_id, name, grade, expected, status, seen_in }] }

  async function loadRoll(room) {
    if (!room) { roll = null; drawRoll(); return; }
    if (roll && roll.roomId === room.id) return;
    let list = null;
    try {
      if (navigator.onLine) {
        const response = await fetch(`${data.api}/rooms/${room.id}/students`,
                                     { credentials: "omit", cache: "no-store" });
        if (response.ok) {
          list = (await response.json()).students;
          kept.rolls[room.id] = list;
          keep();
        }
      }
    } catch { /* no connection: the list kept on this phone, if any */ }
    const chosen = findRoom($("room").value);
    if (!chosen || chosen.id !== room.id) return;  // another room was chosen meanwhile
    list = list || kept.rolls[room.id] || [];
    roll = { roomId: room.id, students: list.map((s) => ({ ...s, status: s.status || "" })) };
    drawRoll();
  }

  function markButton(student) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "mark";
    button.dataset.status = student.status;
    button.dataset.student = student.student_id;
    const name = document.createElement("span");
    name.textContent = student.name;
    if (student.seen_in) {
      const seen = document.createElement("small");
      seen.className = "seen muted";
      seen.textContent = say("seen_in", { room: student.seen_in });
      name.append(seen);
    }
    const word = document.createElement("span");
    word.className = "status";
    word.textContent = STATUSES[student.status];
    button.append(name, word);
    button.setAttribute("aria-label", `${student.name}: ${STATUSES[student.status]}`);
    button.addEventListener("click", () => {
      student.status = (student.expected ? NEXT : NEXT_EXTRA)[student.status] || "present";
      drawRoll();
    });
    return button;
  }

  function drawRoll() {
    const section = $("roll");
    section.hidden = !roll;
    if (!roll) { setCounting(false); return; }
    const expected = roll.students.filter((s) => s.expected);
    $("no-roster").hidden = expected.length > 0;
    $("no-roster").textContent = say("no_roster");
    $("roll-marking").hidden = expected.length === 0;
    const marked = roll.students.filter((s) => s.status).length;
    $("roll-count").textContent = roll.students.length
      ? say("marked", { marked, total: roll.students.length }) : "";
    $("roll-list").replaceChildren(...roll.students.map((student) => {
      const li = document.createElement("li");
      li.append(markButton(student));
      if (!student.expected) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "remove secondary";
        remove.textContent = "×";
        remove.setAttribute("aria-label", `${say("remove")} ${student.name}`);
        remove.addEventListener("click", () => {
          roll.students = roll.students.filter((s) => s !== student);
          drawRoll();
        });
        li.append(remove);
      }
      return li;
    }));
    setCounting(roll.students.length > 0);
  }

  // With a list, the counts are the marks' (read-only); without one, typed as before.
  function setCounting(fromMarks) {
    for (const id of ["present", "missing", "extra", "injured"]) $(id).readOnly = fromMarks;
    for (const step of document.querySelectorAll(".step")) step.disabled = fromMarks;
    if (!fromMarks) return;
    const of = (...wanted) => roll.students.filter((s) => wanted.includes(s.status)).length;
    $("present").value = of("present", "injured");  // an injured student is here too
    $("missing").value = of("missing");
    $("extra").value = of("extra");
    $("injured").value = of("injured");
  }

  $("all-present").addEventListener("click", () => {
    for (const student of roll ? roll.students : []) {
      if (student.expected && !student.status) student.status = "present";
    }
    drawRoll();
  });

  let searching = null;
  $("extra-search").addEventListener("input", () => {
    clearTimeout(searching);
    const words = $("extra-search").value.trim();
    if (words.length < 2 || !navigator.onLine) { $("extra-found").replaceChildren(); return; }
    searching = setTimeout(async () => {
      try {
        const response = await fetch(`${data.api}/students?q=${encodeURIComponent(words)}`,
                                     { credentials: "omit", cache: "no-store" });
        if (!response.ok || !roll || $("extra-search").value.trim() !== words) return;
        const listed = new Set(roll.students.map((s) => s.student_id));
        const found = (await response.json()).filter((s) => !listed.has(s.id));
        $("extra-found").replaceChildren(...found.map((s) => {
          const li = document.createElement("li");
          const add = document.createElement("button");
          add.type = "button";
          add.className = "secondary";
          add.textContent = s.grade ? `${s.name} · ${s.grade}` : s.name;
          add.addEventListener("click", () => {
            roll.students.push({ student_id: s.id, name: s.name, grade: s.grade,
                                 expected: false, status: "extra", seen_in: null });
            $("extra-search").value = "";
            $("extra-found").replaceChildren();
            drawRoll();
          });
          li.append(add);
          return li;
        }));
      } catch { /* no connection: nothing found */ }
    }, 250);
  });

  $("room").addEventListener("input", () => loadRoll(findRoom($("room").value)));
  loadRoll(findRoom($("room").value));

  $("report").addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const room = findRoom($("room").value);
    const problem = !room ? say("choose_room") : !status ? say("choose_status") : "";
    $("problem").textContent = problem;
    if (problem) return;
    const count = (id) => Math.max(0, parseInt($(id).value, 10) || 0);
    const note = $("note").value.trim();
    const students = roll && roll.roomId === room.id
      ? roll.students.filter((s) => s.status)
        .map((s) => ({ student_id: s.student_id, status: s.status })) : [];
    kept.reports.push({ room: room.code, body: {
      client_id: crypto.randomUUID(), room_id: room.id, status,
      students_present: count("present"), students_missing: count("missing"),
      students_extra: count("extra"), injured: count("injured"),
      note: note || null, observed_at: new Date().toISOString(), students } });
    keep();
    show();
    $("sent").scrollIntoView({ block: "nearest" });
    flush();
  });

  // ---- what we know: the newest update under the directive, earlier ones below it; while
  // the event is active and the page is shown, the link's data is read again for new ones
  const POLL_MS = 20000;

  function drawUpdates(updates) {
    const section = $("updates");
    section.replaceChildren(...updates.map((u, n) => {
      const article = document.createElement("article");
      article.className = n === 0 ? "update latest" : "update";
      const line = (text, cls) => {
        const p = document.createElement("p");
        p.className = cls;
        p.textContent = text;
        return p;
      };
      const head = line(`${say(n === 0 ? "update" : "earlier")} · `, "update-head");
      const at = document.createElement("time");
      at.dateTime = u.posted_at;
      at.textContent = time(u.posted_at);
      head.append(at);
      article.append(head);
      if (u.threat_location) article.append(line(`${data.threat_word}: ${u.threat_location}`, "update-threat"));
      article.append(line(u.text, "update-text"));
      return article;
    }));
    section.hidden = updates.length === 0;
  }

  let polling = data.open ? setInterval(poll, POLL_MS) : null;
  async function poll() {
    if (document.visibilityState !== "visible" || !navigator.onLine) return;
    try {
      const response = await fetch(data.api, { credentials: "omit", cache: "no-store" });
      if (!response.ok) return;
      const page = await response.json();
      drawUpdates(page.updates);
      if (page.event.status !== "active") {
        clearInterval(polling);
        polling = null;
      }
    } catch (error) {
      // the updates shown stay; the next turn asks again
    }
  }
  document.addEventListener("visibilitychange", () => { if (polling) poll(); });

  $("ack").addEventListener("click", () => { kept.ack = "pending"; keep(); flush(); });
  window.addEventListener("online", flush);

  // Opening the page is the acknowledgement (never the GET: link previews fetch it).
  if (data.open && kept.ack !== "sent") kept.ack = "pending";
  keep();
  show();
  flush();

  // Reopening the link without a connection still shows this page.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(data.worker, { scope: "/e/" }).catch(() => {});
  }
  if (window.caches) {
    const page = new Response(served, { headers: { "Content-Type": "text/html; charset=utf-8" } });
    caches.open("muster-links").then((cache) => Promise.all([
      cache.put(location.pathname, page), cache.addAll(data.assets)])).catch(() => {});
  }
})();
