// netqa offline map viewer: pan, zoom, layer switches, cursor position. No library, no network.
(function () {
  "use strict";
  var svg = document.getElementById("map");
  var lon0 = parseFloat(svg.dataset.lon0), lat0 = parseFloat(svg.dataset.lat0), k = parseFloat(svg.dataset.k);
  var M = 111320.0;
  var home = svg.getAttribute("viewBox").split(" ").map(Number);
  var vb = home.slice();
  var status = document.getElementById("status");
  var labels = svg.querySelectorAll(".rlabel");

  function apply() {
    svg.setAttribute("viewBox", vb.join(" "));
    var px = vb[2] / Math.max(svg.clientWidth, 1);  // map units (~m) per screen pixel
    for (var i = 0; i < labels.length; i++) { labels[i].style.fontSize = (12 * px) + "px"; }
    status.dataset.width = (vb[2] / 1000).toFixed(2) + " km wide";
    status.textContent = status.dataset.pos ? status.dataset.pos + " · " + status.dataset.width : status.dataset.width;
  }
  function toMap(evt) {
    var r = svg.getBoundingClientRect();
    var s = Math.max(vb[2] / r.width, vb[3] / r.height);  // preserveAspectRatio xMidYMid meet
    var ox = vb[0] + vb[2] / 2 - s * r.width / 2, oy = vb[1] + vb[3] / 2 - s * r.height / 2;
    return [ox + (evt.clientX - r.left) * s, oy + (evt.clientY - r.top) * s, s];
  }
  function zoom(f, cx, cy) {
    if (cx === undefined) { cx = vb[0] + vb[2] / 2; cy = vb[1] + vb[3] / 2; }
    vb = [cx - (cx - vb[0]) * f, cy - (cy - vb[1]) * f, vb[2] * f, vb[3] * f];
    apply();
  }
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = toMap(e);
    zoom(e.deltaY > 0 ? 1.25 : 0.8, p[0], p[1]);
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (e) { drag = toMap(e); svg.classList.add("dragging"); });
  window.addEventListener("mouseup", function () { drag = null; svg.classList.remove("dragging"); });
  svg.addEventListener("mousemove", function (e) {
    var p = toMap(e);
    if (drag) {
      vb[0] -= p[0] - drag[0]; vb[1] -= p[1] - drag[1];
      apply();
      return;
    }
    var lon = lon0 + p[0] / (k * M), lat = lat0 - p[1] / M;
    status.dataset.pos = lat.toFixed(5) + "°, " + lon.toFixed(5) + "°";
    apply();
  });
  document.getElementById("zin").addEventListener("click", function () { zoom(0.8); });
  document.getElementById("zout").addEventListener("click", function () { zoom(1.25); });
  document.getElementById("zfit").addEventListener("click", function () { vb = home.slice(); apply(); });

  var overlay = document.getElementById("layer-overlay");
  document.getElementById("opacity").addEventListener("input", function (e) {
    overlay.setAttribute("opacity", e.target.value / 100);
  });
  document.getElementById("show-overlay").addEventListener("change", function (e) {
    overlay.style.display = e.target.checked ? "" : "none";
  });
  var radios = document.querySelectorAll("input[name=band]");
  for (var i = 0; i < radios.length; i++) {
    radios[i].addEventListener("change", function (e) {
      var key = e.target.value;
      var nodes = document.querySelectorAll(".overlay, #panel .legend[data-key^=band-]");
      for (var j = 0; j < nodes.length; j++) { nodes[j].style.display = nodes[j].dataset.key === key ? "" : "none"; }
    });
  }
  var boxes = document.querySelectorAll("input[data-layer]");
  for (var b = 0; b < boxes.length; b++) {
    boxes[b].addEventListener("change", function (e) {
      document.getElementById(e.target.dataset.layer).style.display = e.target.checked ? "" : "none";
    });
  }
  apply();
})();
