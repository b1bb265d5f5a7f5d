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
  $("report").addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const room = findRoom($("room").value);
    const problem = !room ? say("choose_room") : !status ? say("choose_status") : "";
    $("problem").textContent = problem;
    if (problem) return;
    const count = (id) => Math.max(0, parseInt($(id).value, 10) || 0);
    const note = $("note").value.trim();
    kept.reports.push({ room: room.code, body: {
      client_id: crypto.randomUUID(), room_id: room.id, status,
      students_present: count("present"), students_missing: count("missing"),
      students_extra: count("extra"), injured: count("injured"),
      note: note || null, observed_at: new Date().toISOString() } });
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
