// Muster's pages: calling the API from a signed-in browser. The session is an HttpOnly
// cookie the browser sends by itself; every request that changes something also carries
// the page's CSRF token (from <meta name="csrf-token">), or the API refuses it.
"use strict";

const Muster = {
  csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return (meta && meta.content) || sessionStorage.getItem("muster.csrf") || "";
  },

  // fetch JSON; resolves to the decoded body, rejects with an Error whose message is the
  // problem's detail (what the person should read), and whose .status is the HTTP status
  async api(path, { method = "GET", body, headers = {} } = {}) {
    const options = { method, credentials: "same-origin", headers: { ...headers } };
    if (method !== "GET" && method !== "HEAD") options.headers["X-CSRF-Token"] = Muster.csrf();
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error((data && (data.detail || data.title)) || response.statusText);
      error.status = response.status;
      error.problem = data;
      throw error;
    }
    return data;
  },

  // the JSON a page left for its scripts in <script type="application/json" id=...>
  data(id) {
    return JSON.parse(document.getElementById(id).textContent);
  },
};
