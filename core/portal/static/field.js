// The field filing page (resident/field.html): a filing is kept on the phone first (its photos made smaller),
// under a fresh Idempotency-Key, then sent at once when there is signal; otherwise when the connection returns
// (Background Sync where the browser has it, the next page load, the "upload now" button). Lists what waits, was
// sent or was refused (a refused one is edited and sent again), and the filer's recent concerns as last synced.
(function () {
  "use strict";
  const form = document.getElementById("field-form");
  if (!form || !self.YishiOffline) return;
  const store = self.YishiOffline;
  const slug = form.dataset.slug;
  const maxPhotos = Number(form.dataset.maxPhotos);
  const say = JSON.parse(document.getElementById("field-messages").textContent);
  const FIELDS = ["title", "description", "category", "compound", "building", "place", "channel", "resident_name",
                  "resident_phone", "urgency"];
  const MAX_SIDE = 1600;  // px: a phone's photo made small enough to keep and send over a weak signal
  let editing = null;  // the refused filing being edited

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- the connection ------------------------------------------------------------------------------------
  function showConnection() {
    const state = document.getElementById("net-state");
    state.textContent = navigator.onLine ? say.online : say.offline;
    state.classList.toggle("offline", !navigator.onLine);
  }

  // --- photos: made at most MAX_SIDE px on their longer side, JPEG ---------------------------------------
  async function smaller(file) {
    const bitmap = await createImageBitmap(file);
    const ratio = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * ratio);
    canvas.height = Math.round(bitmap.height * ratio);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return new Promise((resolve, reject) => canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("toBlob"))), "image/jpeg", 0.85));
  }

  // Times as the portal shows them everywhere: Beijing time, to the minute (2026-12-02 14:30).
  const clock = new Intl.DateTimeFormat("sv-SE", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit",
                                                  day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  function beijing(moment) { return clock.format(new Date(moment)); }

  // --- the local list ------------------------------------------------------------------------------------
  async function render() {
    const list = document.getElementById("queue-list");
    const filings = (await store.filings(slug)).reverse();
    list.replaceChildren();
    document.getElementById("queue-empty").hidden = filings.length > 0;
    for (const filing of filings) {
      const item = el("li", { class: "queued " + filing.state, "data-state": filing.state, "data-key": filing.key });
      const head = el("p", { class: "queued-head" });
      const label = { waiting: say.waiting, sent: say.sent, refused: say.refused }[filing.state];
      head.append(el("span", { class: "badge state" }, label), " ", el("strong", {}, filing.fields.title));
      item.append(head);
      const about = [beijing(filing.createdAt)];
      if (filing.photos.length) about.push(say.photos.replace("{count}", filing.photos.length));
      item.append(el("p", { class: "muted" }, about.join(" · ")));
      if (filing.state === "sent") {
        const line = el("p", { class: "reference" });
        line.append(el("a", { href: "/t/" + slug + "/me/concerns/" + filing.concernId }, filing.reference));
        item.append(line);
      }
      if (filing.state === "refused") {
        item.append(el("p", { class: "error reason" }, filing.reason));
        const edit = el("button", { type: "button", class: "secondary edit" }, say.edit);
        edit.addEventListener("click", () => startEditing(filing));
        const drop = el("button", { type: "button", class: "link remove" }, say.remove);
        drop.addEventListener("click", async () => {
          if (window.confirm(say.confirm_remove)) { await store.remove(filing.key); render(); }
        });
        item.append(edit, " ", drop);
      }
      list.append(item);
    }
  }

  async function renderRecent() {
    const kept = await store.recent(slug);
    const list = document.getElementById("recent-list");
    list.replaceChildren();
    document.getElementById("recent-synced").textContent =
      kept ? say.synced.replace("{time}", kept.synced_at) : say.never;
    if (kept && !kept.concerns.length) list.append(el("li", { class: "muted" }, say.none));
    for (const concern of (kept ? kept.concerns : [])) {
      const item = el("li", { class: "recent" });
      const head = el("p", { class: "queued-head" });
      head.append(el("span", { class: "badge" }, concern.status), " ", el("strong", {}, concern.title));
      item.append(head, el("p", { class: "muted" }, concern.reference + " · " + concern.filed));
      list.append(item);
    }
  }

  // --- editing a refused filing --------------------------------------------------------------------------
  function startEditing(filing) {
    editing = filing;
    for (const name of FIELDS) if (form.elements[name]) form.elements[name].value = filing.fields[name] || "";
    const note = document.getElementById("editing");
    note.textContent = say.editing + "：" + filing.reason;
    note.hidden = false;
    form.scrollIntoView();
    form.elements.title.focus();
  }

  // --- sending -------------------------------------------------------------------------------------------
  let sending = false;
  async function upload() {
    if (sending) return;
    sending = true;
    const button = document.getElementById("upload-now");
    button.disabled = true;
    try {
      const outcome = await store.sendAll(slug);
      if (outcome.signin) showError(say.signin);
    } finally {
      sending = false;
      button.disabled = false;
      await render();
      await renderRecent();
    }
  }

  async function askForSync() {
    try {
      const registration = await navigator.serviceWorker.ready;
      if (registration.sync) await registration.sync.register("yishi-upload");
    } catch (error) { /* no Background Sync here: the next page load or the button sends it */ }
  }

  function showError(message) {
    const error = document.getElementById("form-error");
    error.textContent = message;
    error.hidden = !message;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const fields = {};
    for (const name of FIELDS) fields[name] = form.elements[name] ? String(form.elements[name].value).trim() : "";
    if (!fields.title || !fields.description || !fields.category) return showError(say.required);
    const chosen = Array.from(form.elements.photos.files);
    if (chosen.length > maxPhotos) return showError(say.too_many);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const photos = chosen.length || !editing ? await Promise.all(chosen.map(smaller)) : editing.photos;
      // A fresh key for an edited filing too: the refused one filed nothing, and this is other content.
      await store.put({ key: crypto.randomUUID(), slug, fields, photos, state: "waiting", reason: "", createdAt: Date.now() });
      if (editing) await store.remove(editing.key);
      editing = null;
      document.getElementById("editing").hidden = true;
      form.reset();
      await render();
      document.getElementById("net-state").textContent = say.saved + " " + (navigator.onLine ? say.online : say.offline);
      if (navigator.onLine) await upload();
      if ((await store.filings(slug)).some((f) => f.state === "waiting")) await askForSync();
    } catch (error) {
      showError(String(error));
    } finally {
      button.disabled = false;
    }
  });

  // The compound chosen narrows the buildings (all of them are on the page: no request, it works offline).
  const compound = form.elements.compound;
  if (compound) {
    compound.addEventListener("change", () => {
      const name = compound.selectedIndex > 0 ? compound.options[compound.selectedIndex].text : "";
      for (const group of form.querySelectorAll("#building optgroup")) group.hidden = Boolean(name) && group.label !== name;
      form.elements.building.value = "";
    });
  }

  document.getElementById("upload-now").addEventListener("click", upload);
  window.addEventListener("online", () => { showConnection(); upload(); });
  window.addEventListener("offline", showConnection);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "queue-changed") { render(); renderRecent(); }
    });
  }
  showConnection();
  render().then(() => { form.dataset.ready = "1"; });
  renderRecent();
  if (navigator.onLine) {
    store.refresh(slug).catch(() => null).then(renderRecent);
    upload();
  }
})();
