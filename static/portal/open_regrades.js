// The open regrade requests' count on the course page's "Regrade requests" button, from the
// API (session auth). Loaded (deferred) by courses/course_detail.html for staff.
(function () {
  "use strict";
  var badge = document.querySelector("[data-open-regrades]");
  if (!badge || !window.fetch) return;
  fetch(badge.getAttribute("data-open-regrades"), {credentials: "same-origin", headers: {Accept: "application/json"}})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (rows) {
      if (!rows) return;
      badge.textContent = " (" + rows.length + " open)";
      badge.hidden = false;
    })
    .catch(function () {});
})();
