// The cockpit's charts, drawn from the data table under each one (the table is the source and stays readable).
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var COLOURS = ["#b3261e", "#1f6fb2", "#1f7a3a", "#f0b429", "#7b4fa0", "#52606d", "#e8684a", "#2bb3a3",
                 "#9aa5b1", "#c05621", "#3c8dbc", "#8e6c8a"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.datasets.bar.maxBarThickness = 48;

  function series(table, indices) {
    var heads = table.tHead.rows[0].cells;
    var rows = Array.prototype.filter.call(table.tBodies[0].rows, function (row) { return !row.classList.contains("total"); });
    var labels = rows.map(function (row) { return row.cells[0].textContent.trim(); });
    var sets = indices.map(function (index, n) {
      return {
        label: heads[index].textContent.trim(),
        data: rows.map(function (row) {
          var value = row.cells[index].getAttribute("data-value");
          return value === null ? null : Number(value);
        }),
        backgroundColor: COLOURS[n % COLOURS.length],
        borderColor: COLOURS[n % COLOURS.length]
      };
    });
    return { labels: labels, datasets: sets };
  }

  function draw(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-table"));
    var kind = canvas.getAttribute("data-kind");
    var indices = canvas.getAttribute("data-series").split(",").map(Number);
    var data = series(table, indices);
    var options = { responsive: true, animation: false, plugins: { legend: { display: data.datasets.length > 1 } } };
    var type = "bar";
    if (kind === "line") {
      type = "line";
      options.scales = { y: { beginAtZero: true } };
    } else if (kind === "doughnut") {
      type = "doughnut";
      data.datasets[0].backgroundColor = data.labels.map(function (_, n) { return COLOURS[n % COLOURS.length]; });
      options.plugins.legend = { display: true, position: "right" };
    } else if (kind === "horizontal") {
      options.indexAxis = "y";
    } else if (kind === "stacked") {
      options.scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true } };
    } else if (kind === "percent") {
      data.datasets[0].data = data.datasets[0].data.map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; });
      options.scales = { y: { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } } };
    }
    new Chart(canvas, { type: type, data: data, options: options });
  }

  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-table]"), draw);
}());
