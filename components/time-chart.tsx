"use client";
import "uplot/dist/uPlot.min.css";
import { useEffect, useId, useRef, useState, useSyncExternalStore } from "react";
import type uPlot from "uplot";

/** A line of a chart: its values (null: no data) and its colour in light and dark mode. */
export type ChartSeries = { label: string; values: (number | null)[]; color: readonly [light: string, dark: string] };

const DARK_QUERY = "(prefers-color-scheme: dark)";

function subscribeDark(onChange: () => void): () => void {
  const m = window.matchMedia(DARK_QUERY);
  m.addEventListener("change", onChange);
  return () => m.removeEventListener("change", onChange);
}

/** Whether the system asks for dark mode (the dashboard's `dark:` styles follow it too). */
export function useDarkMode(): boolean {
  return useSyncExternalStore(
    subscribeDark,
    () => window.matchMedia(DARK_QUERY).matches,
    () => false,
  );
}

const AXES = {
  light: { text: "#3f3f46", grid: "#e4e4e7" },
  dark: { text: "#d4d4d8", grid: "#3f3f46" },
};

const TIME_FORMAT: Intl.DateTimeFormatOptions = { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" };

/**
 * A time chart drawn with uPlot, loaded only when a chart is shown (not in the console's
 * JavaScript). The canvas is an image for screen readers; the same numbers are in the table
 * view below it. Hovering shows a bucket's values in the legend.
 */
export function TimeChart({
  title,
  x,
  series,
  format,
  axisFormat,
  testId,
  table,
  height = 220,
}: {
  title: string;
  /** Each bucket's start, epoch ms. */
  x: number[];
  series: ChartSeries[];
  /** A value as the legend and the table show it. */
  format: (v: number | null) => string;
  /** A value as the y axis shows it, when shorter than `format`. */
  axisFormat?: (v: number) => string;
  testId: string;
  /** What the table view shows, when not the plotted values (calls per bucket for a chart of calls/s); the same columns. */
  table?: { caption: string; values: (number | null)[][]; format: (v: number | null) => string };
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const dark = useDarkMode();
  const [hover, setHover] = useState<number | null>(null);
  const [drawn, setDrawn] = useState(0);
  const titleId = useId();

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let plot: uPlot | null = null;
    let resize: ResizeObserver | null = null;
    let cancelled = false;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      const axis = dark ? AXES.dark : AXES.light;
      const axisStyle = { stroke: axis.text, grid: { stroke: axis.grid, width: 1 }, ticks: { stroke: axis.grid, width: 1 } };
      const opts: uPlot.Options = {
        width: el.clientWidth || 600,
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          axisStyle,
          {
            ...axisStyle,
            values: (_u, ticks) => ticks.map((v) => (axisFormat ?? format)(v)),
            // As wide as the longest label (about 7 px a character at uPlot's 12 px font).
            size: (_u, labels) => (labels ? Math.max(40, ...labels.map((l) => String(l).length * 7 + 24)) : 48),
          },
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color[dark ? 1 : 0],
            width: 2,
            // Points when a line would not show every value: few buckets, or values between gaps.
            points: { show: s.values.filter((v) => v !== null).length <= 60, size: 7, fill: s.color[dark ? 1 : 0] },
          })),
        ],
        hooks: { setCursor: [(u: uPlot) => setHover(u.cursor.idx ?? null)] },
      };
      plot = new UPlot(opts, [x.map((t) => t / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData, el);
      resize = new ResizeObserver(() => plot?.setSize({ width: el.clientWidth, height }));
      resize.observe(el);
      setDrawn((n) => n + 1);
    });
    return () => {
      cancelled = true;
      resize?.disconnect();
      plot?.destroy();
    };
  }, [x, series, dark, height, format, axisFormat]);

  const at = hover ?? x.length - 1;
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
  return (
    <figure className="min-w-0 space-y-2 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800" data-testid={testId}>
      <figcaption id={titleId} className="text-sm font-medium">
        {title}
      </figcaption>
      <ul className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-zinc-600 dark:text-zinc-400">
        {series.map((s) => (
          <li key={s.label} className="flex items-center gap-1">
            <span aria-hidden className="inline-block h-0.5 w-4" style={{ backgroundColor: s.color[dark ? 1 : 0] }} />
            {s.label}
            {at >= 0 && <span className="font-mono">{format(s.values[at] ?? null)}</span>}
          </li>
        ))}
      </ul>
      <div
        ref={box}
        role="img"
        aria-labelledby={titleId}
        aria-describedby={`${titleId}-table`}
        data-chart-drawn={drawn > 0 ? "true" : "false"}
        data-points={points}
        style={{ minHeight: height }}
      />
      <details className="text-sm">
        <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">Table view{table ? `: ${table.caption}` : ""}</summary>
        {/* Focusable: a scrolling region must be reachable by keyboard. */}
        <div className="mt-2 max-h-72 overflow-auto" tabIndex={0} role="region" aria-label={`${title}, table`}>
          <table id={`${titleId}-table`} className="w-full text-left text-xs" data-testid={`${testId}-table`}>
            <caption className="sr-only">{table?.caption ?? title}</caption>
            <thead>
              <tr>
                <th scope="col" className="px-2 py-1">
                  Time
                </th>
                {series.map((s) => (
                  <th key={s.label} scope="col" className="px-2 py-1 text-right">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {x.map((t, i) => (
                <tr key={t} className="border-t border-zinc-100 dark:border-zinc-800">
                  <th scope="row" className="whitespace-nowrap px-2 py-0.5 font-normal">
                    {new Date(t).toLocaleString(undefined, TIME_FORMAT)}
                  </th>
                  {series.map((s, j) => (
                    <td key={s.label} className="px-2 py-0.5 text-right font-mono">
                      {table ? table.format(table.values[j]?.[i] ?? null) : format(s.values[i] ?? null)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
