/* The course settings page, as the instructor types:
 * - each assignment's grace end is asked of the server (courses.deadlines computes it on the
 *   course's clock, daylight-saving changes included) and shown under its due date;
 * - the weights of the graded (non-bonus) categories are added up as they change.
 * Without this script the page still works: the server checks everything on save. */
(function () {
  "use strict";

  if (!window.fetch || !document.querySelector) {
    return;
  }

  var timers = {};

  function preview(slug) {
    var output = document.getElementById("grace-end-" + slug);
    var due = document.querySelector('[data-grace-due="' + slug + '"]');
    var days = document.querySelector('[data-grace-days="' + slug + '"]');
    if (!output || !due || !days) {
      return;
    }
    var url = output.getAttribute("data-url") +
      "?due_at=" + encodeURIComponent(due.value) +
      "&grace_days=" + encodeURIComponent(days.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) { output.textContent = body.text; })
      .catch(function () { /* the server checks on save */ });
  }

  function schedule(slug) {
    window.clearTimeout(timers[slug]);
    timers[slug] = window.setTimeout(function () { preview(slug); }, 250);
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    var slug = target.getAttribute("data-grace-due") || target.getAttribute("data-grace-days");
    if (slug) {
      schedule(slug);
    }
    if (target.closest && target.closest("[data-weights]")) {
      addUp(target.closest("[data-weights]"));
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.closest && target.closest("[data-weights]")) {
      addUp(target.closest("[data-weights]"));
    }
  });

  function addUp(form) {
    var rows = form.querySelectorAll("[data-category-row]");
    var total = 0;
    for (var i = 0; i < rows.length; i += 1) {
      var row = rows[i];
      var weight = row.querySelector("[data-weight]");
      var bonus = row.querySelector("[data-bonus]");
      var remove = row.querySelector("[data-remove]");
      var slug = row.querySelector('input[name="new-slug"]');
      if ((bonus && bonus.checked) || (remove && remove.checked) || (slug && !slug.value.trim())) {
        continue;
      }
      var value = parseFloat(weight && weight.value);
      if (!isNaN(value)) {
        total += value;
      }
    }
    total = Math.round(total * 100) / 100;
    var shown = form.querySelector("[data-weights-sum]");
    var line = form.querySelector(".weights-sum");
    if (shown) {
      shown.textContent = String(total);
    }
    if (line) {
      line.classList.toggle("weights-off", total !== 100);
    }
  }
})();
