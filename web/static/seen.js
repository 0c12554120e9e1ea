// The answer page tells the server once that a person has it in front of them (CallUp.seen_at).
// Link-preview fetchers read the page without running this, so they never mark a call-up seen.
(function () {
  "use strict";
  var sent = false;
  function report() {
    var main = document.querySelector("[data-seen-url]");
    if (sent || !main || document.visibilityState !== "visible") {
      return;
    }
    sent = true;
    fetch(main.getAttribute("data-seen-url"), {
      method: "POST", credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer", keepalive: true
    }).catch(function () { sent = false; });
  }
  document.addEventListener("visibilitychange", report);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", report);
  } else {
    report();
  }
})();
