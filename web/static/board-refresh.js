// The staffing board keeps itself current: every few seconds, while the tab is visible, it fetches its own page
// (the same page of its tables) and swaps in the parts marked data-live (figures, positions, arrivals, history). Forms are never replaced, so
// nothing a clerk is typing is lost. Without script the page is the same, only as of its last load.
(function () {
  "use strict";
  var root = document.querySelector("[data-refresh-seconds]");
  if (!root || !window.fetch || !window.DOMParser) {
    return;
  }
  var seconds = Math.max(1, parseInt(root.getAttribute("data-refresh-seconds"), 10) || 15);
  var status = document.getElementById("board-updated");
  var busy = false;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var next = fresh.getElementById(old.id);
      if (next) {
        old.replaceWith(document.importNode(next, true));
      }
    });
    if (status) {
      var now = new Date();
      status.textContent = "已更新 " + now.toLocaleTimeString("zh-CN", {hour12: false}) + " · Updated";
    }
  }

  function refresh() {
    if (busy || document.visibilityState !== "visible") {
      return;
    }
    busy = true;
    fetch(window.location.pathname + window.location.search, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (!response.ok || response.redirected) {  // signed out or gone: stop asking
          window.clearInterval(timer);
          return null;
        }
        return response.text();
      })
      .then(function (html) { if (html) { swap(html); } })
      .catch(function () { /* offline for a moment: the next tick tries again */ })
      .then(function () { busy = false; });
  }

  var timer = window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", refresh);
})();
