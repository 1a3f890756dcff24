// Report charts: every chart described in the embedded JSON (canvas id, title, unit, type,
// stacked, horizontal, labels, series) is drawn on its canvas as a line, bar or pie chart.
// A series names its colour by token (result-2, series-5, totals, ramp-3...): the colour is
// the CSS custom property --token of buildapi.css, the one place colours are defined.
(function () {
  "use strict";
  var source = document.getElementById("report-charts-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var style = getComputedStyle(document.documentElement);
  function colour(token) {
    return style.getPropertyValue("--" + token).trim() || style.getPropertyValue("--other").trim();
  }
  var BAR_HEIGHT = 22; // pixels per bar of a horizontal chart, so long lists stay readable

  function dataset(chart, series) {
    var pie = chart.type === "pie";
    var fill = pie ? series.colours.map(colour) : colour(series.colour);
    var many = chart.labels.length > 60;
    return {
      label: series.label,
      data: series.data,
      fill: !!chart.stacked && chart.type === "line",
      backgroundColor: fill,
      borderColor: pie ? "#fff" : fill,
      borderDash: series.dash ? [6, 3] : [],
      borderWidth: series.colour === "totals" ? 2.5 : 1.5,
      pointRadius: many ? 0 : 2,
      spanGaps: false, // an interval without data is a gap, never a zero
      tension: 0,
    };
  }

  function scales(chart) {
    var index = { stacked: !!chart.stacked, ticks: { autoSkip: true } };
    // Counts, shares and durations: an axis never runs below zero.
    var value = {
      stacked: !!chart.stacked,
      min: 0,
      title: { display: !!chart.unit, text: chart.unit || "" },
    };
    return chart.horizontal ? { x: value, y: index } : { x: index, y: value };
  }

  JSON.parse(source.textContent).forEach(function (chart) {
    var canvas = document.getElementById(chart.canvas);
    if (!canvas) {
      return;
    }
    var pie = chart.type === "pie";
    if (chart.horizontal) {
      canvas.parentNode.style.height = (60 + BAR_HEIGHT * chart.labels.length) + "px";
    }
    new Chart(canvas, {
      type: chart.type || "line",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (series) { return dataset(chart, series); }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: !chart.horizontal,
        indexAxis: chart.horizontal ? "y" : "x",
        interaction: pie ? {} : { mode: "index", intersect: false },
        plugins: { legend: { position: pie ? "right" : "top" } },
        scales: pie ? {} : scales(chart),
      },
    });
  });
})();
