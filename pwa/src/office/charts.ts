// Charts drawn as inline SVG (no chart library): a line chart for the 13-month trend and horizontal bars for
// communities and grids, each in a figure whose caption says what it shows, its unit and its period (`captioned`).
// The geometry is pure (tested); the DOM part only sets attributes and text nodes.

import { h } from '../dom';

const SVG = 'http://www.w3.org/2000/svg';

export interface Series {
  label: string;
  values: (number | null)[];
  cls: string; // CSS class: the colour comes from office.css
}

export interface Box {
  width: number;
  height: number;
  pad: { top: number; right: number; bottom: number; left: number };
}

export const LINE_BOX: Box = { width: 640, height: 220, pad: { top: 12, right: 16, bottom: 28, left: 44 } };

/** The y-axis range: from 0 (or below, for negative data) to a round maximum above the data. */
export function yRange(series: Series[], fixedMax?: number): [number, number] {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const min = Math.min(0, ...all);
  if (fixedMax !== undefined) return [min, Math.max(fixedMax, ...all)];
  const top = Math.max(...all, 1);
  const step = 10 ** Math.floor(Math.log10(top));
  return [min, Math.ceil(top / step) * step];
}

/** The y-axis ticks of whole counts (hazards found): whole and distinct, 1, 2 or 5 × 10^n apart, at most `most`
 *  intervals, from 0 (or a tick below negative data) to the first tick at or above the data. Quarters of a round
 *  maximum, rounded, read 0, 0, 1, 1, 1 for a month of one hazard. */
export function countTicks(series: Series[], most = 5): number[] {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const low = Math.min(0, ...all);
  const high = Math.max(1, ...all);
  for (let power = 1; ; power *= 10) {
    for (const step of [power, 2 * power, 5 * power]) {
      const from = Math.floor(low / step);
      const to = Math.ceil(high / step);
      if (to - from <= most) return Array.from({ length: to - from + 1 }, (_, i) => (from + i) * step);
    }
  }
}

/** The y-axis ticks of a chart of rates (shares, up to `fixedMax`) or of whole counts. */
function ticksOf(series: Series[], counts: boolean, fixedMax?: number): number[] {
  if (counts) return countTicks(series);
  const [min, max] = yRange(series, fixedMax);
  return [0, 1, 2, 3, 4].map((i) => min + ((max - min) * i) / 4);
}

/** Points of one series in the box; gaps (null) break the line into segments. */
export function linePoints(
  values: (number | null)[],
  box: Box,
  [min, max]: [number, number],
): [number, number][][] {
  const w = box.width - box.pad.left - box.pad.right;
  const h = box.height - box.pad.top - box.pad.bottom;
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  const segments: [number, number][][] = [];
  let current: [number, number][] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (current.length) segments.push(current);
      current = [];
      return;
    }
    const x = box.pad.left + (values.length > 1 ? i * step : w / 2);
    const y = box.pad.top + h - ((v - min) / (max - min || 1)) * h;
    current.push([Math.round(x * 10) / 10, Math.round(y * 10) / 10]);
  });
  if (current.length) segments.push(current);
  return segments;
}

function el<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A line chart of several series over the same x labels (e.g. months), with a legend and a title; each point says
 *  its label, series and value when pointed at (an SVG <title>). `max`: the axis's top (1 for rates); `counts`: the
 *  values are whole counts, on whole ticks (`countTicks`); `partialLast`: the last x is still running (this month,
 *  counted to today), its piece of line and its point are drawn faint (office.css `.partial`). */
export function lineChart(
  title: string,
  xLabels: string[],
  series: Series[],
  format: (v: number) => string,
  { max, counts = false, partialLast = false }: { max?: number; counts?: boolean; partialLast?: boolean } = {},
): SVGSVGElement {
  const box = LINE_BOX;
  const ticks = ticksOf(series, counts, max);
  const range: [number, number] = [ticks[0] ?? 0, ticks[ticks.length - 1] ?? 1];
  const svg = el('svg', {
    viewBox: `0 0 ${box.width} ${box.height + 24}`,
    class: 'chart line-chart',
    role: 'img',
    'aria-label': title,
  });
  svg.append(el('title', {}, title));
  const bottom = box.height - box.pad.bottom;
  for (const v of ticks) {
    const y = bottom - ((bottom - box.pad.top) * (v - range[0])) / (range[1] - range[0] || 1);
    svg.append(el('line', { x1: box.pad.left, x2: box.width - box.pad.right, y1: y, y2: y, class: 'grid' }));
    svg.append(el('text', { x: box.pad.left - 6, y: y + 4, 'text-anchor': 'end', class: 'tick', 'data-y-tick': v }, format(v)));
  }
  const every = Math.ceil(xLabels.length / 7);
  const step = (box.width - box.pad.left - box.pad.right) / Math.max(1, xLabels.length - 1);
  xLabels.forEach((label, i) => {
    if (i % every !== 0 && i !== xLabels.length - 1) return;
    // The last label ends at its point: centred, a long one (26-12（至今）) ran past the chart's edge.
    const anchor = i === xLabels.length - 1 && xLabels.length > 1 ? 'end' : 'middle';
    svg.append(el('text', { x: box.pad.left + i * step, y: bottom + 18, 'text-anchor': anchor, class: 'tick' }, label));
  });
  series.forEach((s, index) => {
    const g = el('g', { class: `series ${s.cls}`, 'data-series': s.label });
    const last = xLabels.length - 1;
    const indexOf = (x: number): number => (xLabels.length > 1 ? Math.round((x - box.pad.left) / step) : 0);
    for (const segment of linePoints(s.values, box, range)) {
      const tail = partialLast && segment.length > 1 && indexOf(segment[segment.length - 1]![0]) === last;
      const line = (points: [number, number][], cls?: string): SVGPolylineElement =>
        el('polyline', { points: points.map(([x, y]) => `${x},${y}`).join(' '), fill: 'none', ...(cls ? { class: cls } : {}) });
      g.append(line(tail ? segment.slice(0, -1) : segment));
      if (tail) g.append(line(segment.slice(-2), 'partial'));
      for (const [x, y] of segment) {
        const i = indexOf(x);
        const point = el('circle', { cx: x, cy: y, r: 2.5, ...(partialLast && i === last ? { class: 'partial' } : {}) });
        const v = s.values[i];
        if (v !== null && v !== undefined) point.append(el('title', {}, `${xLabels[i] ?? ''} ${s.label} ${format(v)}`));
        g.append(point);
      }
    }
    const lx = box.pad.left + index * 150;
    // The legend's swatch is a piece of the line, so its dash pattern (office.css) tells the series apart without
    // colour too.
    g.append(el('line', { x1: lx - 2, x2: lx + 14, y1: box.height + 14, y2: box.height + 14, class: 'swatch' }));
    g.append(el('text', { x: lx + 18, y: box.height + 18, class: 'legend' }, s.label));
    svg.append(g);
  });
  return svg;
}

/** Horizontal bars, one per row (e.g. a community's self-check coverage), values in 0..max. */
export function barChart(
  title: string,
  rows: { label: string; value: number | null }[],
  format: (v: number) => string,
  max = 1,
): SVGSVGElement {
  const rowH = 24;
  const labelW = 150;
  const width = 640;
  const barW = width - labelW - 70;
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${rows.length * rowH + 8}`,
    class: 'chart bar-chart',
    role: 'img',
    'aria-label': title,
  });
  svg.append(el('title', {}, title));
  const top = Math.max(max, ...rows.map((r) => r.value ?? 0));
  rows.forEach((row, i) => {
    const y = 4 + i * rowH;
    svg.append(el('text', { x: labelW - 8, y: y + 16, 'text-anchor': 'end', class: 'tick' }, row.label));
    const w = row.value === null ? 0 : (Math.max(0, row.value) / (top || 1)) * barW;
    svg.append(el('rect', { x: labelW, y: y + 3, width: Math.round(w * 10) / 10, height: rowH - 8, class: 'bar' }));
    svg.append(
      el('text', { x: labelW + w + 6, y: y + 16, class: 'value' }, row.value === null ? '—' : format(row.value)),
    );
  });
  return svg;
}

/** What a chart shows: its title, its unit and its period, said in its caption. */
export interface Caption {
  title: string;
  /** The unit and period, under the title (单位：% · 2025-12 至 2026-12，12 月计至 12-10). */
  detail: string;
  /** All of it in a sentence, the chart's accessible name: the title, unit and period, and where its values are. */
  label: string;
}

/** `chart` in a figure with its caption above it, `label` its accessible name (`aria-label`, and its <title>), and,
 *  when `table` is given (head, then rows), the values themselves in a table folded under the chart (`tableLabel` its
 *  summary): read by a screen reader, and by anyone who wants the exact figures. */
export function captioned(
  chart: SVGSVGElement,
  caption: Caption,
  table?: { head: string[]; rows: string[][]; tableLabel: string },
): HTMLElement {
  chart.setAttribute('aria-label', caption.label);
  chart.querySelector('title')?.replaceChildren(caption.label);
  return h(
    'figure',
    { class: 'chart-figure' },
    h('figcaption', {}, h('strong', {}, caption.title), ' ', h('span', { class: 'muted' }, caption.detail)),
    chart,
    table
      ? h('details', { class: 'chart-values' }, h('summary', {}, table.tableLabel), h('div', { class: 'table-wrap' },
          h('table', { class: 'data', 'data-chart-values': '' },
            h('caption', { class: 'visually-hidden' }, caption.title),
            h('thead', {}, h('tr', {}, ...table.head.map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, ...table.rows.map(([first, ...rest]) =>
              h('tr', {}, h('th', { scope: 'row' }, first ?? ''), ...rest.map((c) => h('td', { class: 'num' }, c))))))))
      : null,
  );
}
