// The signed-in pages' "Sign out": ends this browser's session and goes to sign-in.
"use strict";

document.getElementById("sign-out")?.addEventListener("click", async () => {
  try {
    await Muster.api("/v1/me/session", { method: "DELETE" });
  } finally {
    location.assign("/signin");
  }
});
