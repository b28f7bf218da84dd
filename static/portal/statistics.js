// The statistics page's histogram, drawn by Chart.js from the numbers the page carries
// (#histogram-data, the same as its table). No inline script.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("histogram");
    var source = document.getElementById("histogram-data");
    if (!canvas || !source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: "Students", data: data.counts, backgroundColor: "#2f5fb3" }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, title: { display: false } },
        scales: {
          x: { title: { display: true, text: "Points" } },
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Students" } },
        },
      },
    });
    canvas.setAttribute("data-drawn", "true");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
