// The console's live charts: samples of the metrics JSON (GET /metrics/connectors[/{name}],
// docs/metrics.md) kept in the browser for the last five minutes, drawn as inline SVG.
'use strict';

const Charts = (() => {
  const HISTORY_MS = 5 * 60 * 1000;
  const MIN_GAP_MS = 1000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const BOX = { w: 640, h: 180, left: 56, right: 12, top: 12, bottom: 24 };
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

  /** name -> samples {t, read, written, readRate, writtenRate, lag}, oldest first. */
  const history = new Map();

  /** The lag summed over a flow's partitions; null without any. */
  function totalLag(flow) {
    const lags = (flow.partitions || []).map((p) => p.lag).filter(isNum);
    return lags.length ? lags.reduce((a, b) => a + b, 0) : null;
  }

  /** Records/s of a counter since the previous sample, else the flow's own windowed rate. */
  function rateSince(prev, t, value, key, fallback) {
    if (prev && isNum(value) && isNum(prev[key]) && value >= prev[key] && t > prev.t) {
      return ((value - prev[key]) * 1000) / (t - prev.t);
    }
    return isNum(fallback) ? fallback : null;
  }

  /** Keeps one sample of a connector's flow (at most one a second). */
  function record(name, flow) {
    const t = Date.now();
    const samples = history.get(name) || [];
    const prev = samples[samples.length - 1];
    if (prev && t - prev.t < MIN_GAP_MS) return;
    const records = flow.records || {};
    const rates = flow.rates || {};
    samples.push({
      t,
      read: records.read,
      written: records.written,
      readRate: rateSince(prev, t, records.read, 'read', rates.read_per_s),
      writtenRate: rateSince(prev, t, records.written, 'written', rates.written_per_s),
      lag: totalLag(flow),
    });
    while (samples.length && samples[0].t < t - HISTORY_MS) samples.shift();
    history.set(name, samples);
  }

  const forget = (name) => history.delete(name);

  /** [[t, value]] of one sample field, where it has a value. */
  function points(name, key) {
    return (history.get(name) || []).filter((s) => isNum(s[key])).map((s) => [s.t, s[key]]);
  }

  function svgEl(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** A round upper bound for the y axis. */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const step = 10 ** Math.floor(Math.log10(v));
    return [1, 2, 2.5, 5, 10].map((m) => m * step).find((m) => m >= v);
  }

  /** The time the x axis spans: the samples so far, at least a minute, at most HISTORY_MS. */
  function span(series, now) {
    const first = Math.min(now, ...series.map((s) => (s.points.length ? s.points[0][0] : now)));
    return Math.min(HISTORY_MS, Math.max(60_000, now - first));
  }

  const fmtSpan = (ms) => (ms < 120_000 ? `−${Math.round(ms / 1000)} s` : `−${Math.round(ms / 60_000)} min`);
  const fmtTick = (v) => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : String(Math.round(v * 10) / 10));

  /** Draws `series` [{cls, points: [[t, v]]}] into `svg`; `emptyText` while there are none. */
  function draw(svg, series, emptyText) {
    const { w, h, left, right, top, bottom } = BOX;
    const now = Date.now();
    const ms = span(series, now);
    const values = series.flatMap((s) => s.points.map((p) => p[1]));
    const max = niceMax(Math.max(0, ...values));
    const x = (t) => left + ((t - (now - ms)) / ms) * (w - left - right);
    const y = (v) => top + (1 - v / max) * (h - top - bottom);
    const nodes = [];
    for (const v of [0, max / 2, max]) {
      nodes.push(svgEl('line', { class: 'grid', x1: left, x2: w - right, y1: y(v), y2: y(v) }));
      nodes.push(svgEl('text', { class: 'tick', x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtTick(v)));
    }
    nodes.push(svgEl('text', { class: 'tick', x: left, y: h - 6 }, fmtSpan(ms)));
    nodes.push(svgEl('text', { class: 'tick', x: w - right, y: h - 6, 'text-anchor': 'end' }, 'now'));
    for (const s of series) {
      const pts = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
      if (pts.length) nodes.push(svgEl('polyline', { class: `line ${s.cls}`, points: pts.join(' ') }));
      const last = s.points[s.points.length - 1];
      if (last) nodes.push(svgEl('circle', { class: `dot ${s.cls}`, cx: x(last[0]), cy: y(last[1]), r: 3 }));
    }
    if (!values.length) {
      nodes.push(svgEl('text', { class: 'empty', x: w / 2, y: h / 2, 'text-anchor': 'middle' }, emptyText));
    }
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    // The samples drawn, of the longest series: what a test or a reader can count on.
    svg.dataset.points = String(Math.max(0, ...series.map((s) => s.points.length)));
    svg.replaceChildren(...nodes);
  }

  /** A <figure> with a caption and its legend around an empty chart `testid`. */
  function figure(testid, title, legend) {
    const fig = document.createElement('figure');
    fig.className = 'chart';
    const caption = document.createElement('figcaption');
    const strong = document.createElement('strong');
    strong.textContent = title;
    caption.append(strong);
    for (const [cls, label] of legend) {
      const key = document.createElement('span');
      key.className = `key ${cls}`;
      key.textContent = label;
      caption.append(key);
    }
    const svg = svgEl('svg', { role: 'img', 'aria-label': title, 'data-testid': testid, 'data-points': '0' });
    fig.append(caption, svg);
    return fig;
  }

  return { record, forget, points, totalLag, draw, figure };
})();
