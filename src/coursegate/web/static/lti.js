// The LTI login page (web/lti.py): go on to the LMS's sign-in if this browser kept the
// launch's cookie; if it did not (third-party cookies blocked in the LMS's frame), offer a
// window of its own, where the cookie is first-party.
(function () {
  "use strict";
  var box = document.getElementById("lti-login");
  if (!box) { return; }
  var go = function () { window.location.replace(box.dataset.continue); };
  var offer = function () {
    document.getElementById("lti-wait").hidden = true;
    // Its paragraph, not the link: a .button's display would show a [hidden] link anyway.
    document.getElementById("lti-go").hidden = true;
    document.getElementById("lti-new-window").hidden = false;
  };
  fetch(box.dataset.check, { credentials: "include", cache: "no-store" })
    .then(function (r) { return r.json(); })
    .then(function (d) { if (d.cookie) { go(); } else { offer(); } })
    .catch(go);
})();

// A page whose only purpose is to post back to the LMS (deep linking): post it at once.
(function () {
  "use strict";
  var form = document.getElementById("lti-autopost");
  if (form) { form.submit(); }
})();
