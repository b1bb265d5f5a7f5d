// The controls of an active event (templates/_event_controls.html): send an update,
// change the action, all-clear, cancel as a false alarm. After a change the section
// dispatches "muster:event-changed" (detail: what the API returned, the event or the
// update); unless a listener calls preventDefault(), the page reloads to show the event
// as it now is.
"use strict";

(() => {
  function wire(section) {
    const eventId = section.dataset.eventId;
    const message = section.querySelector("[data-message]");

    async function send(path, body, button) {
      message.textContent = "";
      button.disabled = true;
      try {
        const event = await Muster.api(`/v1/events/${eventId}/${path}`, { method: "POST", body });
        const changed = new CustomEvent("muster:event-changed",
                                        { detail: event, bubbles: true, cancelable: true });
        if (section.dispatchEvent(changed)) location.reload();
      } catch (error) {
        message.textContent = error.message;
      } finally {
        button.disabled = false;
      }
    }

    const step = section.querySelector('[data-step="all-clear"]');
    if (step) {
      const open = step.querySelector("[data-open]");
      const form = step.querySelector("form");
      open.addEventListener("click", () => {
        open.hidden = true;
        form.hidden = false;
        form.querySelector('button[type="submit"]').focus();
      });
      step.querySelector("[data-back]").addEventListener("click", () => {
        form.hidden = true;
        open.hidden = false;
        open.focus();
      });
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const text = form.elements.message.value.trim();
        send("all-clear", text ? { message: text } : {}, e.submitter);
      });
    }

    const action = section.querySelector('[data-form="action"]');
    if (action) {
      const fieldset = action.querySelector("[data-srp]");
      MusterSRP.wire(fieldset);
      action.addEventListener("submit", (e) => {
        e.preventDefault();
        const missing = MusterSRP.missing(fieldset);
        if (missing) {
          message.textContent = missing;
          return;
        }
        send("actions", MusterSRP.request(fieldset), e.submitter);
      });
    }

    const update = section.querySelector('[data-form="update"]');
    if (update) {
      update.addEventListener("submit", (e) => {
        e.preventDefault();
        const text = update.elements.text.value.trim();
        const where = update.elements.threat_location.value.trim();
        if (!text) {
          message.textContent = "Say what we know: everyone alerted is told.";
          update.elements.text.focus();
          return;
        }
        send("updates", where ? { text, threat_location: where } : { text }, e.submitter)
          .then(() => { if (!message.textContent) update.reset(); });
      });
    }

    const cancel = section.querySelector('[data-form="cancel"]');
    if (cancel) {
      cancel.addEventListener("submit", (e) => {
        e.preventDefault();
        const reason = cancel.elements.reason.value.trim();
        if (!reason) {
          message.textContent = "Say why it was a false alarm: everyone is told.";
          cancel.elements.reason.focus();
          return;
        }
        send("cancel", { reason }, e.submitter);
      });
    }
  }

  document.querySelectorAll("[data-event-controls]").forEach(wire);
})();
