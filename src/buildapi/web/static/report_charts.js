// Report charts: every chart described in the embedded JSON (canvas id, title, unit, type,
// stacked, labels, series, palette) is drawn on its canvas as a line, bar or pie chart.
(function () {
  "use strict";
  var source = document.getElementById("report-charts-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var palettes = {
    distinct: ["#3949ab", "#1e8e3e", "#fb8c00", "#e53935", "#8e24aa", "#00897b", "#fdd835",
      "#6d4c41", "#546e7a", "#c0ca33", "#d81b60", "#039be5"],
    // Ordered series (wait blocks): the first green, the last ones red and beyond.
    ramp: ["#1e8e3e", "#7cb342", "#c0ca33", "#fdd835", "#ffb300", "#fb8c00", "#f4511e",
      "#e53935", "#c62828", "#8e24aa", "#5e35b1", "#3949ab"],
  };

  JSON.parse(source.textContent).forEach(function (chart) {
    var canvas = document.getElementById(chart.canvas);
    if (!canvas) {
      return;
    }
    var pie = chart.type === "pie";
    var palette = palettes[chart.palette] || palettes.distinct;
    var ramp = palette === palettes.ramp;
    var axis = { stacked: !!chart.stacked };
    new Chart(canvas, {
      type: chart.type || "line",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (series, i) {
          var color = pie
            ? chart.labels.map(function (_, j) { return palette[j % palette.length]; })
            : palette[ramp ? Math.min(i, palette.length - 1) : i % palette.length];
          return {
            label: series.label,
            data: series.data,
            fill: !!chart.stacked && chart.type === "line",
            backgroundColor: color,
            borderColor: pie ? "#fff" : color,
            pointRadius: ramp ? 0 : 2,
            tension: 0,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        interaction: pie ? {} : { mode: "index", intersect: false },
        scales: pie ? {} : {
          x: axis,
          y: { stacked: axis.stacked, beginAtZero: true, title: { display: !!chart.unit, text: chart.unit || "" } },
        },
      },
    });
  });
})();
