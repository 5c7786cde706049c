// The portal's service worker, one per tenant (served as /t/{slug}/sw.js, so its scope is /t/{slug}/). It keeps
// the stylesheet and scripts, the field page (with the tenant's categories, compounds and buildings) and the
// notice shown for a page that needs the network; it sends the filings waiting on the phone when Background Sync
// says the connection is back, or when a page asks. No personal page other than the field page is kept.
"use strict";
importScripts("/static/offline-store.js");

const SCOPE = new URL(self.registration.scope).pathname;  // /t/{slug}/
const SLUG = SCOPE.split("/")[2];
const VERSION = "1";
const CACHE = "yishi-" + SLUG + "-v" + VERSION;
const OFFLINE_PAGE = SCOPE + "offline";
const FIELD_PAGE = SCOPE + "field";
const SHELL = ["/static/portal.css", "/static/htmx.min.js", "/static/pwa.js", "/static/offline-store.js",
               "/static/field.js", OFFLINE_PAGE];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("yishi-" + SLUG + "-v") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// A page worth keeping: answered 200 by the page itself (not a redirect to sign in, not a refusal).
async function keep(path, answer) {
  if (answer.ok && !answer.redirected && answer.type === "basic") {
    await (await caches.open(CACHE)).put(path, answer.clone());
  }
  return answer;
}

async function navigate(request) {
  const path = new URL(request.url).pathname;
  try {
    const answer = await fetch(request);
    return path === FIELD_PAGE ? keep(FIELD_PAGE, answer) : answer;
  } catch (error) {  // no network: the page kept, else the notice
    const cache = await caches.open(CACHE);
    const kept = path === FIELD_PAGE ? await cache.match(FIELD_PAGE) : undefined;
    return kept || (await cache.match(OFFLINE_PAGE)) || new Response(
      "<!doctype html><meta charset=utf-8><title>没有网络</title><p>这个页面需要网络，现在没有网络连接。有信号后再试。</p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}

// The stylesheet and scripts: the copy kept at once, refreshed from the network for the next time.
async function asset(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreSearch: true });
  const fresh = fetch(request).then((answer) => {
    if (answer.ok) cache.put(request, answer.clone());
    return answer;
  });
  if (kept) {
    fresh.catch(() => null);
    return kept;
  }
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (event.request.mode === "navigate" && url.pathname.startsWith(SCOPE)) {
    event.respondWith(navigate(event.request));
  } else if (SHELL.includes(url.pathname) && url.pathname.startsWith("/static/")) {
    event.respondWith(asset(event.request));
  }
});

const KEEP_EVERY = 10 * 60 * 1000;  // ms: the field page is fetched afresh at most this often
let keptAt = 0;

async function tell(message) {
  for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage(message);
}

async function upload() {
  const outcome = await self.YishiOffline.sendAll(SLUG);
  await tell({ type: "queue-changed", outcome });
  if (outcome.waiting && !outcome.signin) throw new Error("still waiting");  // Background Sync tries again later
}

self.addEventListener("sync", (event) => {
  if (event.tag === "yishi-upload") event.waitUntil(upload());
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === "upload") {
    event.waitUntil(upload().catch(() => null));
  } else if (type === "keep-field" && Date.now() - keptAt > KEEP_EVERY) {
    // A signed-in page: keep (or refresh) the field page, if this person may file there (else it answers 403).
    keptAt = Date.now();
    event.waitUntil(fetch(FIELD_PAGE, { credentials: "same-origin" }).then((a) => keep(FIELD_PAGE, a)).catch(() => null));
  }
});
