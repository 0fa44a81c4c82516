// Trend chart on uPlot.
//
// Why uPlot: it draws straight to one canvas from typed column arrays with no per-point
// objects, so tens of thousands of points render in milliseconds and the bundle cost is
// ~50 kB. SVG/DOM libraries (and ECharts' richer model) cost a node or an object per point,
// which is what makes them slow at 50k points; Observable Plot is SVG too. The price is a
// lower-level API, which this module hides behind setData().
//
// The chart also reports what it drew on its container (data-* attributes with the
// baseline's value and canvas row, and each regression marker's value and canvas position),
// so browser tests can check the pixels actually painted instead of trusting the code path.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export const COLORS = {
  value: "#1d4ed8",
  band: "rgba(29, 78, 216, 0.12)",
  baseline: "#b45309",
  marker: "#c0152f",
};

export interface ChartPoint {
  t: number; // seconds since the epoch
  value: number;
  min?: number;
  max?: number;
}

export interface ChartMarker {
  t: number;
  value: number;
}

export interface TrendInput {
  metric: string;
  points: ChartPoint[];
  baseline: number | null;
  markers: ChartMarker[];
  daily: boolean;
}

export interface TrendChartOptions {
  height?: number;
  /** Called with the hovered point's index, or null when the cursor leaves. */
  onHover?: (index: number | null, left: number, top: number) => void;
  /** Called after every draw; tests and measure.ts time draws with it. */
  onDraw?: () => void;
}

/** Index of the point each marker belongs to: exact time match, else the nearest point. */
function markerIndexes(xs: Float64Array, markers: ChartMarker[]): number[] {
  return markers.map((m) => {
    let lo = 0;
    let hi = xs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < m.t) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && Math.abs(xs[lo - 1] - m.t) < Math.abs(xs[lo] - m.t)) lo--;
    return lo;
  });
}

export class TrendChart {
  private plot: uPlot | null = null;
  private input: TrendInput | null = null;
  private readonly resize: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    private readonly opts: TrendChartOptions = {},
  ) {
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: this.height() });
    });
    this.resize.observe(container);
  }

  private width(): number {
    return Math.max(320, this.container.clientWidth);
  }

  private height(): number {
    return this.opts.height ?? 340;
  }

  private build(input: TrendInput): uPlot {
    const series: uPlot.Series[] = [
      {},
      {
        label: input.metric,
        stroke: COLORS.value,
        width: 2,
        spanGaps: true,
        points: { size: 5 },
      },
      {
        label: "baseline",
        stroke: COLORS.baseline,
        width: 2,
        dash: [8, 5],
        points: { show: false },
      },
      {
        label: "regression opened",
        stroke: COLORS.marker,
        fill: COLORS.marker,
        paths: () => null,
        points: { show: true, size: 12, width: 2, stroke: "#ffffff", fill: COLORS.marker },
      },
    ];
    const bands: uPlot.Band[] = [];
    if (input.daily) {
      series.push(
        {
          label: "daily max",
          stroke: "rgba(29, 78, 216, 0.35)",
          width: 1,
          points: { show: false },
        },
        {
          label: "daily min",
          stroke: "rgba(29, 78, 216, 0.35)",
          width: 1,
          points: { show: false },
        },
      );
      bands.push({ series: [4, 5], fill: COLORS.band });
    }
    const opts: uPlot.Options = {
      width: this.width(),
      height: this.height(),
      series,
      bands,
      legend: { show: false },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      scales: { x: { time: true } },
      axes: [
        { stroke: "#334155", grid: { stroke: "#e2e8f0" } },
        { stroke: "#334155", grid: { stroke: "#e2e8f0" }, size: 64 },
      ],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            this.opts.onHover?.(idx ?? null, u.cursor.left ?? 0, u.cursor.top ?? 0);
          },
        ],
        draw: [(u) => this.report(u)],
      },
    };
    return new uPlot(opts, this.columns(input), this.container);
  }

  private columns(input: TrendInput): uPlot.AlignedData {
    const n = input.points.length;
    const xs = new Float64Array(n);
    const ys: (number | null)[] = new Array(n);
    const base: (number | null)[] = new Array(n).fill(input.baseline);
    const marks: (number | null)[] = new Array(n).fill(null);
    for (let i = 0; i < n; i++) {
      xs[i] = input.points[i].t;
      ys[i] = input.points[i].value;
    }
    markerIndexes(xs, input.markers).forEach((idx, i) => {
      if (n > 0) marks[idx] = input.markers[i].value;
    });
    const data: (Float64Array | (number | null)[])[] = [xs, ys, base, marks];
    if (input.daily) {
      data.push(
        input.points.map((p) => p.max ?? p.value),
        input.points.map((p) => p.min ?? p.value),
      );
    }
    return data as uPlot.AlignedData;
  }

  /** Draws input, rebuilding the plot only when its shape (daily or not) changes. */
  setData(input: TrendInput): void {
    const rebuild = !this.plot || !this.input || this.input.daily !== input.daily;
    this.input = input;
    if (rebuild) {
      this.plot?.destroy();
      this.plot = this.build(input);
    } else {
      this.plot!.setData(this.columns(input));
    }
  }

  private report(u: uPlot): void {
    const input = this.input;
    if (!input) return;
    const el = this.container;
    el.dataset.points = String(input.points.length);
    el.dataset.resolution = input.daily ? "daily" : "raw";
    if (input.baseline === null) {
      delete el.dataset.baseline;
      delete el.dataset.baselineY;
    } else {
      el.dataset.baseline = String(input.baseline);
      el.dataset.baselineY = String(Math.round(u.valToPos(input.baseline, "y", true)));
    }
    const marks = u.data[3] as (number | null)[];
    const drawn: { value: number; x: number; y: number }[] = [];
    for (let i = 0; i < marks.length; i++) {
      const v = marks[i];
      if (v === null) continue;
      drawn.push({
        value: v,
        x: Math.round(u.valToPos(u.data[0][i], "x", true)),
        y: Math.round(u.valToPos(v, "y", true)),
      });
    }
    el.dataset.markers = JSON.stringify(drawn);
    el.dataset.plotLeft = String(Math.round(u.bbox.left));
    el.dataset.plotWidth = String(Math.round(u.bbox.width));
    this.opts.onDraw?.();
  }

  /** Where the plot area sits inside the container; cursor positions are relative to it. */
  get plotOffset(): { left: number; top: number } {
    const over = this.plot?.over;
    return { left: over?.offsetLeft ?? 0, top: over?.offsetTop ?? 0 };
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
