// Draws each `.chart` from its data-chart JSON ({since, unit?, scale?, series: [[label, values]]}),
// one point per minute, and again after each refresh swaps the page's live part in.
(function () {
  "use strict";
  var colours = ["#6f42c1", "#cf222e", "#0969da", "#1a7f37"];

  function draw(element) {
    var spec = JSON.parse(element.getAttribute("data-chart"));
    var length = spec.series.length ? spec.series[0][1].length : 0;
    var times = [];
    for (var i = 0; i < length; i++) times.push(spec.since + i * 60);
    var data = [times];
    var series = [{}];
    var scale = spec.scale || 1;
    spec.series.forEach(function (entry, index) {
      data.push(entry[1].map(function (v) { return v === null ? null : v * scale; }));
      series.push({ label: entry[0], stroke: colours[index % colours.length], width: 2 });
    });
    var unit = spec.unit || "";
    var options = {
      width: Math.max(element.clientWidth, 300), height: 200, series: series,
      axes: [{}, { size: 70, values: function (u, ticks) {
        return ticks.map(function (t) { return t + (unit ? " " + unit : ""); }); } }],
      scales: { x: { time: true } },
    };
    element.textContent = "";
    new uPlot(options, data, element);
  }

  function drawAll(root) {
    (root || document).querySelectorAll(".chart[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function () { drawAll(document); });
})();
