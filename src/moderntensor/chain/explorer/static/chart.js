"use strict";
// A line chart as inline SVG, drawn here so the page needs no chart library or network.
window.lineChart = function lineChart(points, { width = 560, height = 180, color = "#2b6cd4", label = "" } = {}) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img"); svg.setAttribute("aria-label", label);
  const pad = 30;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys, 1e-12)];
  const sx = (x) => pad + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - 2 * pad);
  const sy = (y) => height - pad - ((y - y0) / (y1 - y0)) * (height - 2 * pad);
  const text = (x, y, value) => {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("font-size", "10");
    t.textContent = value; svg.appendChild(t);
  };
  text(4, 12, `${label} (max ${y1.toPrecision(4)})`);
  if (points.length) {
    text(pad, height - 8, `epoch ${x0}`); text(width - pad - 50, height - 8, `epoch ${x1}`);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.map((p) => `${sx(p[0])},${sy(p[1])}`).join(" "));
    line.setAttribute("stroke", color);
    svg.appendChild(line);
    for (const p of points) {
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", sx(p[0])); dot.setAttribute("cy", sy(p[1])); dot.setAttribute("r", 2.5);
      dot.setAttribute("fill", color); svg.appendChild(dot);
    }
  } else {
    text(width / 2 - 30, height / 2, "no data yet");
  }
  return svg;
};
