/* A submission's autograder status, live. The server renders the status fragment
 * (templates/grading/_job_status.html) into the page; while it says data-poll="true" (the job
 * is queued or running) this script fetches the fragment again from its data-url every two
 * seconds (held work: every data-poll-ms) and swaps it in place, until the job is done,
 * failed or gone. A running job's elapsed time ticks up each second in between. No library:
 * plain fetch.
 *
 * Without this script the page still shows the status as of its loading. */
(function () {
  "use strict";

  if (!window.fetch || !document.querySelector) {
    return;
  }

  var POLL_MS = 2000;
  var MAX_BACKOFF_MS = 30000;
  var LABELS = {
    queued: "Autograder: queued",
    running: "Autograder: running",
    done: "Autograder: done, results below",
    failed: "Autograder: failed",
    none: "Autograder: not autograded",
  };

  // One polite live region, outside the swapped fragments, says when the status changes.
  var live = document.createElement("p");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  live.setAttribute("data-job-announce", "");
  document.body.appendChild(live);

  function startTicking(root) {
    var nodes = root.querySelectorAll("[data-elapsed]");
    var now = Date.now();
    for (var i = 0; i < nodes.length; i += 1) {
      nodes[i].setAttribute("data-t0", String(now));
    }
  }

  function tick() {
    var nodes = document.querySelectorAll("[data-elapsed][data-t0]");
    var now = Date.now();
    for (var i = 0; i < nodes.length; i += 1) {
      var base = parseInt(nodes[i].getAttribute("data-elapsed"), 10) || 0;
      var t0 = parseInt(nodes[i].getAttribute("data-t0"), 10) || now;
      nodes[i].textContent = base + Math.max(0, Math.floor((now - t0) / 1000)) + "s";
    }
  }

  function schedule(box, delay, failures) {
    window.setTimeout(function () {
      refresh(box, failures);
    }, delay);
  }

  function refresh(box, failures) {
    if (!box.isConnected) {
      return;
    }
    if (document.hidden) {
      // Not looked at: check again when the tab is shown.
      document.addEventListener(
        "visibilitychange",
        function () {
          refresh(box, failures);
        },
        { once: true }
      );
      return;
    }
    var url = box.getAttribute("data-url");
    fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html", "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        if (response.status === 404 || response.status === 403) {
          throw new Error("gone");
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var fresh = template.content.querySelector("[data-job-status]");
        if (!fresh) {
          throw new Error("no fragment");
        }
        var before = box.getAttribute("data-status");
        box.replaceWith(fresh);
        var after = fresh.getAttribute("data-status");
        if (before !== after && LABELS[after]) {
          live.textContent = LABELS[after];
        }
        watch(fresh, 0);
      })
      .catch(function (error) {
        if (error && error.message === "gone") {
          return;
        }
        // The server or the network is away: try again, less and less often.
        var next = failures + 1;
        schedule(box, Math.min(POLL_MS * Math.pow(2, next), MAX_BACKOFF_MS), next);
      });
  }

  function watch(box, failures) {
    startTicking(box);
    if (box.getAttribute("data-poll") === "true") {
      // Held work (late PS0) only needs a look now and then.
      var every = parseInt(box.getAttribute("data-poll-ms"), 10) || POLL_MS;
      schedule(box, Math.max(every, POLL_MS), failures);
    }
  }

  var boxes = document.querySelectorAll("[data-job-status]");
  for (var i = 0; i < boxes.length; i += 1) {
    watch(boxes[i], 0);
  }
  window.setInterval(tick, 1000);
})();
