// The links' service worker (scope /e/): a link's page and its files are kept, so that
// the link opens without a connection, showing the page as it was last loaded.
"use strict";

const CACHE = "muster-links";

self.addEventListener("install", (event) => {
  self.skipWaiting();
  // Where the browser can, the API's requests skip this worker altogether: they go to
  // the network as if there were no worker, and fail as the phone's connection does.
  if (event.addRoutes) {
    event.waitUntil(event.addRoutes({ condition: { urlPattern: "/v1/*" }, source: "network" })
      .catch(() => {}));
  }
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/e/")) {
    // the network first (the page shows live data), the kept copy when there is none
    event.respondWith(fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    }).catch(() => caches.match(request).then((kept) => kept || Response.error())));
  } else if (url.pathname.startsWith("/static/")) {
    // fingerprinted: a name is one version for ever
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
  }
});
