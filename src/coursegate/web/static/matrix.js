/* The matrix page: small progressive enhancements (the page works without them).
 * - A picker (a checklist of sections or assessments) gets a text box that narrows the list
 *   as one types; Enter ticks (or unticks) the first item still shown. Typing in it does not
 *   reload the matrix: only ticking a box does (htmx answers in place).
 * - After htmx replaces the matrix, the pickers of the new content are set up again.
 */
(function () {
  "use strict";

  function setUp(root) {
    root.querySelectorAll("[data-picker]").forEach(function (box) {
      if (box.dataset.ready) { return; }
      box.dataset.ready = "1";
      var input = box.querySelector(".picker-filter");
      if (!input) { return; }
      var items = Array.prototype.slice.call(box.querySelectorAll(".picker-list label"));
      input.hidden = false;
      function visible() {
        return items.filter(function (item) { return !item.hidden; });
      }
      function narrow() {
        var words = input.value.trim().toLowerCase();
        items.forEach(function (item) {
          item.hidden = words !== "" && item.textContent.toLowerCase().indexOf(words) < 0;
        });
      }
      input.addEventListener("input", function (event) {
        event.stopPropagation();
        narrow();
      });
      input.addEventListener("change", function (event) { event.stopPropagation(); });
      input.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") { return; }
        event.preventDefault();
        var first = visible()[0];
        if (!first) { return; }
        var box2 = first.querySelector("input[type=checkbox]");
        box2.checked = !box2.checked;
        box2.dispatchEvent(new Event("change", { bubbles: true }));
      });
      narrow();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.target); });
}());
