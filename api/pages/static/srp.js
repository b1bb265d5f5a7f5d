// The SRP action picker (templates/_srp.html): shows the details the chosen action needs
// and turns the choice into the API's request body.
"use strict";

const MusterSRP = {
  // the chosen action, or "" when none is chosen yet
  action(fieldset) {
    const checked = fieldset.querySelector('input[type="radio"]:checked');
    return checked ? checked.value : "";
  },

  // what POST /v1/schools/{id}/events and /v1/events/{id}/actions take (without drill);
  // details of another action are left out, blank texts too. A lockdown's `location` is
  // where the threat is (its own input, `threat`), an evacuation's where to go.
  request(fieldset) {
    const action = MusterSRP.action(fieldset);
    const body = { action };
    const value = (name) => fieldset.querySelector(`[name="${name}"]`).value.trim();
    const details = { evacuate: ["location", "purpose"], shelter: ["hazard"], lockdown: ["threat"] }[action] || [];
    for (const name of [...details, "message"]) {
      if (value(name)) body[name === "threat" ? "location" : name] = value(name);
    }
    return body;
  },

  // what is missing before the request can be sent, in words ("" when nothing is)
  missing(fieldset) {
    const body = MusterSRP.request(fieldset);
    if (!body.action) return "Choose an action.";
    if (body.action === "evacuate" && !body.location) return "Say where to go.";
    if (body.action === "shelter" && !body.hazard) return "Choose what to shelter from.";
    return "";
  },

  // show the chosen action's details; `changed` runs after each choice
  wire(fieldset, changed = () => {}) {
    const show = () => {
      const action = MusterSRP.action(fieldset);
      for (const part of fieldset.querySelectorAll("[data-needs]")) {
        part.hidden = part.dataset.needs !== action;
      }
      changed(action);
    };
    fieldset.addEventListener("change", show);
    fieldset.addEventListener("input", () => changed(MusterSRP.action(fieldset)));
    show();
  },
};
