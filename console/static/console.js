// kpitrail console: the only script. Charts are server-drawn SVG whose
// points carry their value in a <title> (the pointer's tooltip) and in
// data-readout; this echoes the value of the point under the pointer or
// keyboard focus into the chart's caption, where a screen reader hears it
// (aria-live). Pages work the same without it.
(function () {
  "use strict";
  function readout(ev) {
    var pt = ev.target.closest ? ev.target.closest(".pt") : null;
    if (!pt) return;
    var fig = pt.closest("figure");
    var out = fig ? fig.querySelector("output.readout") : null;
    if (out) out.textContent = pt.getAttribute("data-readout") + "　";
  }
  document.addEventListener("focusin", readout);
  document.addEventListener("mouseover", readout);
})();
