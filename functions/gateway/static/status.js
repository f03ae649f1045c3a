// Polls a restore's (or a health check's) status and updates the page;
// reloads it once it has ended so the final facts are rendered by the server.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var url = live.getAttribute("data-status-url");
  var state = document.getElementById("state");
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");

  function human(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  function show(st) {
    if (st.status !== live.getAttribute("data-state")) {
      if (st.status === "completed" || st.status === "failed") {
        window.location.reload();
        return;
      }
      live.setAttribute("data-state", st.status);
      state.textContent = st.status;
      state.className = "state state-" + st.status;
    }
    if (!bar || !text) { return; } // a health check has no progress bar
    var pct = Math.round(st.percent || 0);
    bar.value = pct;
    bar.textContent = pct + "%";
    var t = human(st.bytes || 0);
    if (st.total_bytes) { t += " of " + human(st.total_bytes); }
    t += " (" + pct + "%)";
    if (st.bytes_per_second) { t += ", " + human(st.bytes_per_second) + "/s"; }
    text.textContent = t;
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (st) { if (st) { show(st); } })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 1000); });
  }
  window.setTimeout(poll, 1000);
})();
