// A reunification's site page: students in (search, one tap), adults in (name,
// relationship, photo ID, which students), what each match says (listed, restricted: in
// red), release and approve; the figures and the lists refresh every few seconds from the
// live view (every read of it is audited). Names only ever go in as text.
"use strict";

(() => {
  const page = Muster.data("reunification");
  const r = page.reunification;
  const api = `/v1/reunifications/${r.id}`;
  const POLL_MS = 4000;
  const ROSTER_EVERY = 8; // polls: the students not yet here change only by arrivals
  const $ = (id) => document.getElementById(id);
  let view = null;
  let roster = []; // the school's active students not checked in, as last read
  // releases from the waiting list refused for want of a principal's approval ("adult
  // student"): the list offers the approval in their place, across its refreshes
  const wantsApproval = new Set();
  const NEEDS_APPROVAL = /:release-(not-listed|id-not-seen)$/;
  let polls = 0;
  const chosen = new Map(); // student id -> name, for the adult being checked in

  function el(tag, props = {}, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  function say(text, error = false) {
    const status = $("status");
    status.textContent = text;
    status.className = error ? "live error" : "live";
  }

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function names() {
    const known = new Map(roster.map((s) => [s.id, s]));
    for (const s of view ? view.students : []) known.set(s.id, s);
    return known;
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return `${h ? h + ":" : ""}${mm}:${String(sec).padStart(2, "0")}`;
  }

  async function load(withRoster) {
    try {
      view = await Muster.api(withRoster ? `${api}?roster=true` : api);
    } catch (error) {
      say(error.message, true);
      return;
    }
    if (withRoster) roster = view.students.filter((s) => !s.arrived_at);
    view.students = view.students.filter((s) => s.arrived_at);
    const here = new Set(view.students.map((s) => s.id));
    roster = roster.filter((s) => !here.has(s.id));
    view.loadedAt = Date.now();
    render();
  }

  function render() {
    const c = view.counts;
    $("count-arrived").textContent = c.arrived;
    $("count-awaiting").textContent = c.awaiting_pickup;
    $("count-released").textContent = c.released;
    $("count-not-arrived").textContent = c.not_arrived;
    $("closed").hidden = !view.reunification.closed_at;
    const close = $("close-reunification");
    if (close) close.hidden = Boolean(view.reunification.closed_at);
    tick();
    renderStudents();
    renderWaiting();
    renderSearch();
    renderAdultSearch();
  }

  function tick() {
    if (!view) return;
    const extra = view.reunification.closed_at ? 0 : (Date.now() - view.loadedAt) / 1000;
    $("open-for").textContent = clock(view.open_for_s + extra);
  }

  function renderStudents() {
    $("students").replaceChildren(...view.students.map((s) => el("li", {},
      el("span", {}, el("strong", { textContent: s.name }),
         s.grade ? el("span", { className: "muted", textContent: ` · grade ${s.grade}` }) : null,
         s.restricted ? el("span", { className: "error", textContent: " · restriction on record" }) : null),
      s.released_at
        ? el("span", { className: "released", textContent: `released to ${s.released_to}` })
        : el("span", { className: "muted", textContent: "awaiting pickup" }))));
  }

  function renderWaiting() {
    const known = names();
    $("waiting").replaceChildren(...view.adults_waiting.map((a) => el("li", {},
      el("span", {}, el("strong", { textContent: a.name }),
         el("span", { className: "muted",
                      textContent: `${a.relationship ? " · " + a.relationship : ""}` +
                                   `${a.id_seen ? " · ID seen" : " · ID NOT seen"}` })),
      ...a.for_students.map((id) => {
        const student = known.get(id);
        const name = student ? student.name : "student";
        const pair = `${a.id} ${id}`;
        if (wantsApproval.has(pair)) {
          return el("button", { type: "button", textContent: `Approve ${name} (principal)`,
            onclick: async () => { if (await approve(id, a.id)) { wantsApproval.delete(pair); renderWaiting(); } } });
        }
        return el("button", { type: "button", textContent: `Release ${name}`,
          onclick: async () => {
            const done = await release(id, a.id, a.name);
            if (done !== true && page.can_approve && NEEDS_APPROVAL.test(done)) {
              wantsApproval.add(pair);
              renderWaiting();
            }
          } });
      }))));
  }

  function matching(list, query) {
    const q = fold(query.trim());
    if (!q) return [];
    return list.filter((s) => fold(s.name).includes(q)).slice(0, 15);
  }

  function renderSearch() {
    const found = matching(roster, $("student-search").value);
    $("student-matches").replaceChildren(...found.map((s) => el("li", {},
      el("span", { textContent: s.name + (s.grade ? ` · grade ${s.grade}` : "") }),
      el("button", { type: "button", textContent: "Arrived", onclick: () => arrived(s) }))));
  }

  function renderAdultSearch() {
    const all = [...roster, ...view.students.filter((s) => !s.released_at)];
    const found = matching(all, $("adult-student-search").value);
    $("adult-student-matches").replaceChildren(...found.map((s) => el("li", {},
      el("span", { textContent: s.name }),
      el("button", { type: "button", className: "secondary",
                     textContent: chosen.has(s.id) ? "Remove" : "Add",
                     onclick: () => { chosen.has(s.id) ? chosen.delete(s.id) : chosen.set(s.id, s.name);
                                      renderChosen(); renderAdultSearch(); } }))));
  }

  function renderChosen() {
    $("adult-chosen").textContent = chosen.size ? [...chosen.values()].join(", ") : "none";
  }

  async function arrived(student) {
    try {
      await Muster.api(`${api}/students`, { method: "POST", body: { student_id: student.id } });
      say(`${student.name} checked in at the site`);
      $("student-search").value = "";
      await load(false);
    } catch (error) {
      say(error.message, true);
    }
  }

  // true once released; else the refusal's problem type ("" if it had none)
  async function release(studentId, adultId, adultName) {
    try {
      const done = await Muster.api(`${api}/releases`, {
        method: "POST", body: { student_id: studentId, adult_id: adultId } });
      const student = names().get(studentId);
      say(`Released ${student ? student.name : ""} to ${adultName} (${done.verification})`);
      await load(false);
      return true;
    } catch (error) {
      say(error.message, true);
      return (error.problem && error.problem.type) || "";
    }
  }

  async function approve(studentId, adultId) {
    try {
      await Muster.api(`${api}/approvals`, {
        method: "POST", body: { student_id: studentId, adult_id: adultId } });
      say("Approved: the student may be released to this adult");
      return true;
    } catch (error) {
      say(error.message, true);
      return false;
    }
  }

  const RESTRICTION = { no_contact: "No-contact order", custody: "Custody note" };

  function matchItem(adult, m) {
    const restrictions = m.restrictions.map((x) => {
      const names = fold(x.adult_name) === fold(adult.name) || (x.guardian_id && x.guardian_id === adult.guardian_id);
      return el("div", { className: names ? "restricted" : "muted",
                         textContent: `${names ? "DO NOT RELEASE: " : ""}${RESTRICTION[x.kind] || x.kind} ` +
                                      `naming ${x.adult_name}${x.note ? " (" + x.note + ")" : ""}` });
    });
    const actions = el("div", { className: "row" });
    const releaseButton = () => el("button", { type: "button", className: "safe",
      textContent: `Release ${m.student}`,
      onclick: async (event) => { if (await release(m.student_id, adult.id, adult.name) === true) event.target.disabled = true; } });
    if (m.needs === "nothing") actions.append(releaseButton());
    else if (m.needs === "approval" && page.can_approve) {
      actions.append(el("button", { type: "button", textContent: "Approve (principal)",
        onclick: async (event) => { if (await approve(m.student_id, adult.id)) event.target.replaceWith(releaseButton()); } }));
    } else if (m.needs === "approval") {
      actions.append(el("span", { className: "not-listed", textContent: "Needs a principal's approval" }));
    }
    const why = m.needs === "approval" && m.listed ? "photo ID not seen" : "";
    return el("li", {}, el("strong", { textContent: m.student }),
      m.restricted ? null : el("span", { className: m.listed ? "listed" : "not-listed",
        textContent: m.listed ? `Listed${m.listed_as ? " (" + m.listed_as + ")" : ""}${why ? ": " + why : ""}`
                              : "NOT on the list" }),
      ...restrictions, actions);
  }

  $("adult-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!chosen.size) {
      say("Add the students the adult came for", true);
      return;
    }
    const relationship = $("adult-relationship").value.trim();
    const body = { name: $("adult-name").value.trim(), id_seen: $("adult-id-seen").checked,
                   student_ids: [...chosen.keys()] };
    if (relationship) body.relationship = relationship;
    try {
      const checked = await Muster.api(`${api}/adults`, { method: "POST", body });
      $("adult-result").replaceChildren(el("h3", { textContent: checked.adult.name }),
        el("ul", { className: "plain ru-list" }, ...checked.students.map((m) => matchItem(checked.adult, m))));
      say(`${checked.adult.name} checked in`);
      event.target.reset();
      chosen.clear();
      renderChosen();
      await load(false);
    } catch (error) {
      say(error.message, true);
    }
  });

  $("student-search").addEventListener("input", () => view && renderSearch());
  $("adult-student-search").addEventListener("input", () => view && renderAdultSearch());
  $("close-reunification")?.addEventListener("click", async () => {
    if (!confirm("Close the reunification? Nothing more can be recorded.")) return;
    try {
      await Muster.api(`${api}/close`, { method: "POST" });
      await load(false);
    } catch (error) {
      say(error.message, true);
    }
  });

  load(true);
  setInterval(() => load(++polls % ROSTER_EVERY === 0), POLL_MS);
  setInterval(tick, 1000);
})();
