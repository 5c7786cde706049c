// The phone's queue of filings and its copy of the filer's recent concerns, in IndexedDB, and sending what waits.
// Loaded by the field page and imported by the service worker (sw.js), so both send the same way. Each filing is
// kept under its own Idempotency-Key: sent twice (by the page and by Background Sync, or again after a lost
// answer), the server files it once.
(function (scope) {
  "use strict";
  const DB = "yishi-offline";
  const FILINGS = "filings";  // key: the Idempotency-Key; {key, slug, fields, photos: [Blob], state, …}
  const RECENT = "recent";  // key: the tenant's slug; {slug, synced_at, concerns}

  function request(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  let opened = null;
  function open() {
    if (!opened) {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore(FILINGS, { keyPath: "key" });
        req.result.createObjectStore(RECENT, { keyPath: "slug" });
      };
      opened = request(req).then((db) => {
        db.onversionchange = () => { db.close(); opened = null; };  // signing out deletes the database
        return db;
      }, (error) => { opened = null; throw error; });
    }
    return opened;
  }

  async function store(name, mode) {
    return (await open()).transaction(name, mode).objectStore(name);
  }

  async function filings(slug) {
    const all = await request((await store(FILINGS, "readonly")).getAll());
    return all.filter((f) => f.slug === slug).sort((a, b) => a.createdAt - b.createdAt);
  }

  async function put(filing) { await request((await store(FILINGS, "readwrite")).put(filing)); }
  async function remove(key) { await request((await store(FILINGS, "readwrite")).delete(key)); }
  async function recent(slug) { return request((await store(RECENT, "readonly")).get(slug)); }

  function base(slug) { return "/t/" + slug; }

  async function csrfToken() {
    if (typeof document !== "undefined") {
      const found = document.cookie.split("; ").find((c) => c.startsWith("yishi_csrf="));
      return found ? decodeURIComponent(found.slice("yishi_csrf=".length)) : null;
    }
    if (scope.cookieStore) {  // in the service worker
      const cookie = await scope.cookieStore.get("yishi_csrf");
      return cookie ? cookie.value : null;
    }
    return null;
  }

  // The filer's recent concerns, refreshed from the server (which also sets the CSRF cookie a send needs).
  async function refresh(slug) {
    const answer = await fetch(base(slug) + "/field/mine", { credentials: "same-origin", redirect: "manual" });
    if (answer.status === 401 || answer.type === "opaqueredirect") return "signin";
    if (!answer.ok) return "later";
    const body = await answer.json();
    await request((await store(RECENT, "readwrite")).put({ slug, synced_at: body.synced_at, concerns: body.concerns }));
    return "ok";
  }

  // One filing: "sent", "refused", "signin" (the session ended: it waits) or "later" (no network, a server fault).
  async function sendOne(filing) {
    let token = await csrfToken();
    if (!token) {
      await refresh(filing.slug);
      token = await csrfToken();
    }
    const body = new FormData();
    for (const [name, value] of Object.entries(filing.fields)) body.append(name, value);
    filing.photos.forEach((photo, i) => body.append("photos", photo, "photo-" + (i + 1) + ".jpg"));
    const answer = await fetch(base(filing.slug) + "/field/concerns", {
      method: "POST", body, credentials: "same-origin", redirect: "manual",
      headers: { "Idempotency-Key": filing.key, "X-CSRFToken": token || "", Accept: "application/json" },
    });
    if (answer.status === 401 || answer.type === "opaqueredirect") return "signin";
    let json = null;
    try { json = await answer.json(); } catch (error) { json = null; }
    if (answer.ok && json && json.reference) {
      Object.assign(filing, { state: "sent", reference: json.reference, concernId: json.id, reason: "", sentAt: Date.now() });
      await put(filing);
      return "sent";
    }
    if (json && json.refused) {
      Object.assign(filing, { state: "refused", reason: json.message, errors: json.errors || {} });
      await put(filing);
      return "refused";
    }
    return "later";
  }

  // Every filing waiting on this device for the tenant, one at a time; one sender at a time (page or worker).
  async function sendAll(slug) {
    const run = async () => {
      const outcome = { sent: 0, refused: 0, waiting: 0, signin: false };
      const waiting = (await filings(slug)).filter((f) => f.state === "waiting");
      if (!waiting.length) return outcome;  // nothing to send: no request at all
      for (const filing of waiting) {
        let result;
        try { result = await sendOne(filing); } catch (error) { result = "later"; }  // no network
        if (result === "sent") outcome.sent += 1;
        else if (result === "refused") outcome.refused += 1;
        else { outcome.waiting += 1; outcome.signin = outcome.signin || result === "signin"; }
        if (result === "signin") break;
      }
      try { await refresh(slug); } catch (error) { /* offline: the copy kept stays */ }
      return outcome;
    };
    return scope.navigator && scope.navigator.locks
      ? scope.navigator.locks.request("yishi-upload-" + slug, run) : run();
  }

  scope.YishiOffline = { filings, put, remove, recent, refresh, sendAll };
})(self);
