// A roster sync's page (web/lti.py, lti_roster_run.html): ask where the run is every two
// seconds, show it, and load the page again when the run is done (it then shows the outcome).
(function () {
  "use strict";
  var box = document.getElementById("roster-run");
  if (!box) { return; }
  var line = document.getElementById("roster-progress");
  var ask = function () {
    fetch(box.dataset.poll, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.progress) { line.textContent = d.progress; }
        if (d.finished || d.error) { window.location.reload(); } else { window.setTimeout(ask, 2000); }
      })
      .catch(function () { window.setTimeout(ask, 5000); });
  };
  window.setTimeout(ask, 1000);
})();
