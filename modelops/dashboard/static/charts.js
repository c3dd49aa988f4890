// Small SVG charts for the dashboard: a line chart over time and a grouped bar chart.
// Colours come from the stylesheet (classes s0..s7), so the page needs no inline style.
"use strict";

const Charts = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 420, HEIGHT = 170;
  const MARGIN = {top: 10, right: 12, bottom: 24, left: 46};

  function node(tag, attributes, text) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // The server's times are UTC without a zone; read them as UTC, not as the browser's local time.
  const parseTime = text => Date.parse(text.length > 10 && !/[zZ+]/.test(text.slice(10)) ? `${text}Z` : text);

  function frame(label) {
    const svg = node("svg", {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img", "aria-label": label});
    svg.appendChild(node("title", {}, label));
    return svg;
  }

  // Round tick values over [low, high]: 1, 2 or 5 times a power of ten apart.
  function ticks(low, high, count) {
    if (high === low) { high = low + 1; }
    const raw = (high - low) / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(f => f * power).find(s => s >= raw);
    const values = [];
    for (let v = Math.floor(low / step) * step; v <= high + step / 2; v += step) values.push(+v.toFixed(10));
    return values;
  }

  function yAxis(svg, values, y, format) {
    for (const value of values) {
      svg.appendChild(node("line", {x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value), class: "grid"}));
      svg.appendChild(node("text", {x: MARGIN.left - 4, y: y(value) + 3, class: "tick", "text-anchor": "end"}, format(value)));
    }
  }

  function legend(names) {
    const list = document.createElement("ul");
    list.className = "legend";
    names.forEach((name, i) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = `swatch s${i % 8}`;
      item.append(swatch, name);
      list.appendChild(item);
    });
    return list;
  }

  // series: [{name, points: [[isoDate, value], ...]}]; one line per series, dates on the x axis.
  function line(title, series, format) {
    const figure = document.createElement("figure");
    figure.className = "chart-figure";
    const caption = document.createElement("figcaption");
    caption.textContent = title;
    figure.appendChild(caption);
    const points = series.flatMap(s => s.points);
    if (!points.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "no figures in this period";
      figure.appendChild(empty);
      return figure;
    }
    const times = points.map(p => parseTime(p[0]));
    const values = points.map(p => p[1]);
    let [t0, t1] = [Math.min(...times), Math.max(...times)];
    if (t0 === t1) { t0 -= 43200000; t1 += 43200000; }  // a single day sits in the middle
    const yTicks = ticks(Math.min(0, ...values), Math.max(...values), 4);
    const [v0, v1] = [yTicks[0], yTicks[yTicks.length - 1]];
    const x = t => MARGIN.left + (t - t0) / (t1 - t0) * (WIDTH - MARGIN.left - MARGIN.right);
    const y = v => HEIGHT - MARGIN.bottom - (v - v0) / (v1 - v0 || 1) * (HEIGHT - MARGIN.top - MARGIN.bottom);
    const svg = frame(title);
    yAxis(svg, yTicks, y, format);
    const within2Days = t1 - t0 < 2 * 86400000 && times.some(t => t % 86400000 !== 0);
    for (const t of [t0, t1]) {
      const iso = new Date(t).toISOString();
      svg.appendChild(node("text", {x: x(t), y: HEIGHT - 6, class: "tick", "text-anchor": t === t0 ? "start" : "end"},
                           within2Days ? `${iso.slice(11, 16)} UTC` : iso.slice(5, 10)));
    }
    series.forEach((s, i) => {
      const xy = s.points.map(p => [x(parseTime(p[0])), y(p[1])]);
      if (xy.length > 1) svg.appendChild(node("polyline", {points: xy.map(p => p.join(",")).join(" "), class: `line s${i % 8}`}));
      s.points.forEach((p, j) => {
        const dot = node("circle", {cx: xy[j][0], cy: xy[j][1], r: 3, class: `dot s${i % 8}`});
        dot.appendChild(node("title", {}, `${s.name} ${p[0]}: ${format(p[1])}`));
        svg.appendChild(dot);
      });
    });
    figure.append(svg, legend(series.map(s => s.name)));
    return figure;
  }

  // groups: [{label, values: [number|null, ...]}], one bar per value name; stacked when asked.
  function bars(title, groups, names, format, stacked) {
    const figure = document.createElement("figure");
    figure.className = "chart-figure";
    const caption = document.createElement("figcaption");
    caption.textContent = title;
    figure.appendChild(caption);
    if (!groups.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "no figures in this period";
      figure.appendChild(empty);
      return figure;
    }
    const heights = groups.map(g => stacked ? g.values.reduce((a, b) => a + (b || 0), 0) : Math.max(0, ...g.values.map(v => v || 0)));
    const yTicks = ticks(0, Math.max(...heights), 4);
    const top = yTicks[yTicks.length - 1] || 1;
    const y = v => HEIGHT - MARGIN.bottom - v / top * (HEIGHT - MARGIN.top - MARGIN.bottom);
    const svg = frame(title);
    yAxis(svg, yTicks, y, format);
    const slot = (WIDTH - MARGIN.left - MARGIN.right) / groups.length;
    const barWidth = stacked ? slot * 0.7 : slot * 0.8 / names.length;
    groups.forEach((group, g) => {
      let base = 0;
      group.values.forEach((value, i) => {
        if (value === null || value === undefined) return;
        const left = MARGIN.left + g * slot + slot * 0.1 + (stacked ? slot * 0.05 : i * barWidth);
        const bottom = stacked ? base : 0;
        const bar = node("rect", {x: left, y: y(bottom + value), width: Math.max(1, barWidth - 1),
                                  height: Math.max(0, y(bottom) - y(bottom + value)), class: `bar s${i % 8}`});
        bar.appendChild(node("title", {}, `${group.label} · ${names[i]}: ${format(value)}`));
        svg.appendChild(bar);
        if (stacked) base += value;
      });
      if (groups.length <= 14) {
        svg.appendChild(node("text", {x: MARGIN.left + g * slot + slot / 2, y: HEIGHT - 6, class: "tick", "text-anchor": "middle"}, group.label));
      }
    });
    figure.append(svg, legend(names));
    return figure;
  }

  // A horizontal meter: value out of max.
  function meter(value, max) {
    const svg = node("svg", {viewBox: "0 0 100 8", class: "meter", preserveAspectRatio: "none", "aria-hidden": "true"});
    svg.appendChild(node("rect", {x: 0, y: 0, width: 100, height: 8, class: "meter-track"}));
    svg.appendChild(node("rect", {x: 0, y: 0, width: Math.min(100, Math.max(0, value / (max || 1) * 100)), height: 8, class: "meter-fill"}));
    return svg;
  }

  return {line, bars, meter};
})();
