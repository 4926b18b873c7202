/* coursegate: the extension form (staff/extensions/new), enhanced. The form works without it:
 * presets are radio buttons resolved by the server, and "Preview" is a submit button.
 * - typing a date in "Until", a multiple in "Another multiple", a student, a section or a
 *   pasted list chooses the radio button it belongs to (data-picks="radio id");
 * - the form asks for the preview on every change (htmx: hx-trigger on the form); the server
 *   answers a refused preview with a 4xx and the reason, which htmx would not show: it is
 *   swapped in all the same, in the preview's place;
 * - while a preview is on its way, the preview is marked busy for screen readers.
 * The Content-Security-Policy refuses inline scripts: this file is the only script here.
 */
(function () {
  "use strict";

  function pick(field) {
    var id = field.getAttribute("data-picks");
    var radio = id && document.getElementById(id);
    if (radio && !radio.checked) {
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function wire(form) {
    if (form.dataset.ready) { return; }
    form.dataset.ready = "1";
    form.querySelectorAll("[data-picks]").forEach(function (field) {
      field.addEventListener("input", function () { pick(field); });
      field.addEventListener("change", function () { pick(field); });
    });
  }

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.id === "preview" && evt.detail.xhr.status >= 400 && evt.detail.xhr.status < 500) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var p = document.getElementById("preview");
    if (p && evt.detail.elt && evt.detail.elt.id === "extension-form") { p.setAttribute("aria-busy", "true"); }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var p = document.getElementById("preview");
    if (p) { p.removeAttribute("aria-busy"); }
  });

  function start() {
    var form = document.getElementById("extension-form");
    if (form) { wire(form); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
