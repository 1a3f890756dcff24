// Wait-time charts: stacked areas of jobs per interval by wait block, as counts and as shares
// of each interval, for all platforms and for each one. The data is embedded in the page.
(function () {
  "use strict";
  var source = document.getElementById("waittimes-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  // Short waits green, long ones red.
  var palette = ["#1e8e3e", "#7cb342", "#c0ca33", "#fdd835", "#ffb300", "#fb8c00", "#f4511e",
    "#e53935", "#c62828", "#8e24aa", "#5e35b1", "#3949ab"];

  function shares(series) {
    var totals = data.labels.map(function (_, i) {
      return series.reduce(function (sum, block) { return sum + block.counts[i]; }, 0);
    });
    return series.map(function (block) {
      return {
        label: block.label,
        counts: block.counts.map(function (count, i) {
          return totals[i] ? Math.round((10000 * count) / totals[i]) / 100 : 0;
        }),
      };
    });
  }

  function draw(canvas, series, unit) {
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: series.map(function (block, i) {
          var color = palette[Math.min(i, palette.length - 1)];
          return {
            label: block.label + " min",
            data: block.counts,
            fill: true,
            backgroundColor: color,
            borderColor: color,
            pointRadius: 0,
            tension: 0,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { stacked: true, beginAtZero: true, title: { display: true, text: unit } },
        },
      },
    });
  }

  draw(document.getElementById("chart-counts"), data.overall, "jobs");
  draw(document.getElementById("chart-shares"), shares(data.overall), "% of jobs");
  document.querySelectorAll("canvas.chart-platform").forEach(function (canvas) {
    draw(canvas, data.platforms[canvas.dataset.platform], "jobs");
  });
})();
