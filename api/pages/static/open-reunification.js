// The event dashboard's "Open a reunification" (safety leads): opens the event's
// reunification, which texts the guardians, and goes to its site page.
"use strict";

document.getElementById("reunification-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const address = form.address.value.trim();
  const body = { site: form.site.value.trim(), ...(address ? { address } : {}) };
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const opened = await Muster.api(`/v1/events/${form.dataset.event}/reunification`,
                                    { method: "POST", body });
    location.assign(`/reunifications/${opened.id}`);
  } catch (error) {
    document.getElementById("reunification-error").textContent = error.message;
    button.disabled = false;
  }
});
