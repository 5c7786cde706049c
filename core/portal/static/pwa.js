// Every page of a tenant's portal: registers its service worker (which makes the portal installable and keeps
// what works offline), has it send what waits on the phone, keeps the field page for those who file there, and
// warns before signing out drops filings not sent yet.
(function () {
  "use strict";
  const data = document.currentScript.dataset;  // read now: currentScript is gone once the script has run
  const base = data.base;  // /t/{slug}
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(base + "/sw.js", { scope: base + "/" }).then(async () => {
    const registration = await navigator.serviceWorker.ready;
    if (!registration.active) return;
    // The next page load sends what waits (where Background Sync is missing, or has not fired yet).
    registration.active.postMessage({ type: "upload" });
    // Signed in: the worker keeps the field page (the form, categories, compounds and buildings) for offline,
    // where this person may file in the field.
    if ("signedIn" in data) registration.active.postMessage({ type: "keep-field" });
  }).catch(() => null);

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.matches("form[data-sign-out]") || form.dataset.confirmed || !self.YishiOffline) return;
    event.preventDefault();
    const waiting = (await self.YishiOffline.filings(base.split("/")[2])).filter((f) => f.state !== "sent");
    const question = "本机还有 " + waiting.length + " 条填报没有上传，退出登录会把它们从本机删除。仍要退出吗？";
    if (!waiting.length || window.confirm(question)) {
      form.dataset.confirmed = "1";
      form.submit();
    }
  });
})();
