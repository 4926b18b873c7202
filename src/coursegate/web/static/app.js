/* coursegate pages: small progressive enhancements (every page works without them).
 * - the remaining time of a timed attempt counts down (the server gives the seconds left,
 *   so the page never trusts the device's clock), announces 5 and 1 minutes left to screen
 *   readers, and reloads when the time is up;
 * - "Copy" buttons copy a field's text; a field marked data-select-on-focus selects its text
 *   when it gets the focus (the pages carry no inline handlers: the Content-Security-Policy
 *   refuses them);
 * - htmx requests carry the session's CSRF token as X-CSRF-Token.
 */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function startTimer(box) {
    var left = parseInt(box.getAttribute("data-remaining"), 10);
    if (isNaN(left)) { return; }
    var out = box.querySelector(".left");
    var alert = document.getElementById("timer-alert");
    var end = Date.now() + left * 1000;
    var said = {};
    function tick() {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      out.textContent = Math.floor(s / 60) + ":" + pad(s % 60);
      if (alert) {
        [300, 60].forEach(function (mark) {
          if (s <= mark && s > mark - 5 && !said[mark]) {
            said[mark] = true;
            alert.textContent = (mark / 60) + (mark === 60 ? " minute" : " minutes") + " left.";
          }
        });
      }
      if (s <= 0) {
        box.classList.add("over");
        if (alert) { alert.textContent = "Your time is up."; }
        var form = document.getElementById("submit-form");
        if (form) { form.querySelectorAll("button, input").forEach(function (e) { e.disabled = true; }); }
        setTimeout(function () { window.location.reload(); }, 1500);
        return;
      }
      setTimeout(tick, 1000 - (Date.now() % 1000));
    }
    tick();
  }

  function copyButtons() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
      if (b.dataset.ready) { return; }
      b.dataset.ready = "1";
      b.addEventListener("click", function () {
        var src = document.querySelector(b.getAttribute("data-copy"));
        if (!src) { return; }
        var text = src.value !== undefined ? src.value : src.textContent;
        var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy the JSON"; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done);
        } else {
          src.select && src.select();
          document.execCommand && document.execCommand("copy");
          done();
        }
      });
    });
  }

  document.addEventListener("htmx:config:request", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    var ctx = evt.detail && evt.detail.ctx;
    if (meta && ctx && ctx.request && ctx.request.headers) {
      ctx.request.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });
  document.addEventListener("htmx:after:swap", copyButtons);

  function selectOnFocus() {
    document.querySelectorAll("[data-select-on-focus]").forEach(function (e) {
      e.addEventListener("focus", function () { e.select(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var t = document.getElementById("timer");
    if (t) { startTimer(t); }
    copyButtons();
    selectOnFocus();
  });
})();
