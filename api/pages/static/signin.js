// Sign in: the phone, then the code texted to it; then back to the page that sent us here.
"use strict";

(() => {
  const phoneForm = document.getElementById("phone-form");
  const codeForm = document.getElementById("code-form");
  const message = document.getElementById("message");
  let phone = "";

  // only a path of ours: "//host" and "/\host" would leave Muster
  function next() {
    const wanted = new URLSearchParams(location.search).get("next") || "/";
    return /^\/(?![\/\\])/.test(wanted) ? wanted : "/";
  }

  phoneForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.textContent = "";
    phone = document.getElementById("phone").value.trim();
    try {
      await Muster.api("/v1/auth/otp", { method: "POST", body: { phone } });
      phoneForm.hidden = true;
      codeForm.hidden = false;
      document.getElementById("code-sent").textContent = `If ${phone} belongs to a member, a code is on its way.`;
      document.getElementById("code").focus();
    } catch (error) {
      message.textContent = error.message;
    }
  });

  codeForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.textContent = "";
    const code = document.getElementById("code").value.trim();
    try {
      await Muster.api("/v1/auth/browser", { method: "POST", body: { phone, code } });
      location.assign(next());
    } catch (error) {
      message.textContent = error.message;
    }
  });

  document.getElementById("other-phone").addEventListener("click", () => {
    codeForm.hidden = true;
    phoneForm.hidden = false;
    document.getElementById("phone").focus();
  });
})();
