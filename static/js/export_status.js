// Follows an analytics export until it is done (templates/analytics/export.html).
(function () {
  "use strict";
  var box = document.getElementById("export");
  if (!box) { return; }
  var labels = {pending: "Pending", running: "Running", done: "Done", failed: "Failed", expired: "Expired"};
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        document.getElementById("export-progress").value = s.progress_percent;
        document.getElementById("export-percent").textContent = s.progress_percent;
        document.getElementById("export-rows").textContent = s.rows;
        document.getElementById("export-status").textContent = labels[s.status] || s.status;
        if (s.error) { var e = document.getElementById("export-error"); e.textContent = s.error; e.hidden = false; }
        if (s.download_url) { var a = document.getElementById("export-download"); a.href = s.download_url; a.hidden = false; }
        if (s.status === "pending" || s.status === "running") { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (box.dataset.poll === "1") { setTimeout(poll, 500); }
})();
