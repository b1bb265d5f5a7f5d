// The start panel of a school's page. A drill starts on a click and a confirmation. A real
// event starts only after its button is held (pointer, touch, or Enter/Space held down)
// for data-hold-ms, then a countdown of data-countdown-s seconds with a large Cancel:
// nothing is sent before the countdown ends. The start carries an Idempotency-Key, so a
// request sent twice starts one event.
"use strict";

(() => {
  const panel = document.getElementById("start");
  if (!panel) return;
  const $ = (id) => document.getElementById(id);
  const form = $("start-form");
  const fieldset = form.querySelector("[data-srp]");
  const button = $("start-button");
  const progress = $("hold-progress");
  const status = $("start-status");
  const error = $("start-error");
  const retry = $("start-retry");
  // read when used, so that a test may shorten them
  const holdMs = () => Number(panel.dataset.holdMs);
  const countdownS = () => Number(panel.dataset.countdownS);
  let holding = null; // {timer, frame, key} while the button is held
  let counting = null; // the countdown's interval
  let pending = null; // {body, key} once a start is decided

  const drill = () => {
    const input = form.elements.drill;
    return input.type === "checkbox" ? input.checked : input.value === "drill";
  };
  const name = () => MusterSRP.action(fieldset).toUpperCase();

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)),
                      (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function say(text, isError = false) {
    status.textContent = isError ? "" : text;
    error.textContent = isError ? text : "";
  }

  // the button says what it will do, and the panel shows whether it is real
  function relabel() {
    const action = name();
    const real = !drill();
    panel.classList.toggle("real", real);
    button.classList.toggle("danger", real);
    $("hold-help").hidden = !real;
    if (!action) button.textContent = "Choose an action";
    else button.textContent = real ? `Hold to start ${action}` : `Start ${action} drill`;
  }

  function ready() {
    const missing = MusterSRP.missing(fieldset);
    if (missing) say(missing, true);
    return !missing;
  }

  function decide() {
    pending = { body: { ...MusterSRP.request(fieldset), drill: drill() }, key: newKey() };
  }

  async function send() {
    say("Sending the alert…");
    retry.hidden = true;
    try {
      const event = await Muster.api(`/v1/schools/${panel.dataset.schoolId}/events`, {
        method: "POST", body: pending.body, headers: { "Idempotency-Key": pending.key },
      });
      say("Started. Opening the event…");
      location.assign(`/events/${event.id}`);
    } catch (failure) {
      say(failure.message, true);
      retry.hidden = false; // the same key: if it did start, it is not started twice
      form.hidden = false;
    }
  }

  // --- a drill: click, then confirm
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (holding || counting) return;
    if (!drill()) {
      say("Hold the button to start a real event.", true);
      return;
    }
    if (!ready()) return;
    say("");
    $("drill-question").textContent = `Start a ${name()} drill? Everyone here is alerted; the alert says DRILL.`;
    form.hidden = true;
    $("drill-confirm").hidden = false;
    $("drill-go").focus();
  });
  $("drill-back").addEventListener("click", () => {
    $("drill-confirm").hidden = true;
    form.hidden = false;
    button.focus();
  });
  $("drill-go").addEventListener("click", () => {
    $("drill-confirm").hidden = true;
    decide();
    send();
  });

  // --- a real event: hold, then the countdown
  function holdStart(byKey) {
    if (drill() || holding || counting || !ready()) return;
    say("Keep holding…");
    const began = performance.now();
    progress.hidden = false;
    const draw = () => {
      progress.value = Math.min(100, ((performance.now() - began) / holdMs()) * 100);
      holding.frame = requestAnimationFrame(draw);
    };
    holding = { frame: requestAnimationFrame(draw), timer: setTimeout(held, holdMs()), byKey };
  }

  function holdStop() {
    if (!holding) return;
    clearTimeout(holding.timer);
    cancelAnimationFrame(holding.frame);
    holding = null;
    progress.hidden = true;
    progress.value = 0;
    say("Let go too soon: hold the button until the bar is full.");
  }

  function held() {
    const byKey = holding.byKey;
    cancelAnimationFrame(holding.frame);
    holding = null;
    progress.hidden = true;
    progress.value = 0;
    decide();
    countdown(byKey);
  }

  // a key still held down must not "press" Cancel: it gets the focus once the key is up
  function countdown(byKey) {
    const deadline = Date.now() + countdownS() * 1000;
    const what = $("countdown-what");
    what.textContent = `${name()} alert to everyone in`;
    form.hidden = true;
    say("");
    $("countdown").hidden = false;
    if (byKey) {
      document.addEventListener("keyup", () => counting && $("countdown-cancel").focus(),
                                { once: true });
    } else {
      $("countdown-cancel").focus();
    }
    const tick = () => {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(counting);
        counting = null;
        $("countdown").hidden = true;
        send();
        return;
      }
      $("countdown-number").textContent = left;
      $("countdown-words").textContent = `${left} seconds`;
    };
    counting = setInterval(tick, 100);
    tick();
  }

  function callOff() {
    if (!counting) return;
    clearInterval(counting);
    counting = null;
    pending = null;
    $("countdown").hidden = true;
    form.hidden = false;
    say("Cancelled, nothing was sent.");
    button.focus();
  }

  button.addEventListener("pointerdown", (e) => {
    if (drill() || e.button !== 0) return;
    button.setPointerCapture?.(e.pointerId);
    holdStart(false);
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    button.addEventListener(type, holdStop);
  }
  button.addEventListener("contextmenu", (e) => { if (!drill()) e.preventDefault(); });
  button.addEventListener("click", (e) => { if (!drill()) e.preventDefault(); });
  button.addEventListener("keydown", (e) => {
    if (drill() || (e.key !== "Enter" && e.key !== " ")) return;
    e.preventDefault();
    if (!e.repeat) holdStart(true);
  });
  button.addEventListener("keyup", (e) => {
    if (drill() || (e.key !== "Enter" && e.key !== " ")) return;
    e.preventDefault();
    holdStop();
  });
  button.addEventListener("blur", holdStop);
  $("countdown-cancel").addEventListener("click", callOff);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") callOff(); });
  retry.addEventListener("click", () => { if (pending) send(); });

  MusterSRP.wire(fieldset, () => { say(""); relabel(); });
  form.elements.drill.addEventListener("change", () => { say(""); relabel(); });
  relabel();
})();
