// Stacked bars (uPlot), one bar per category. uPlot draws series in order, each over the last,
// so the stack is drawn as running totals from the top down. The page shows the same figures as
// a table: the canvas is a picture, the table is the record.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface BarSeries {
  label: string;
  color: string;
  values: number[];
}

export interface StackedBarsProps {
  label: string;
  categories: string[];
  /** Bottom of the stack first. */
  series: BarSeries[];
  height?: number;
}

export function StackedBars({ label, categories, series, height = 220 }: StackedBarsProps) {
  const box = useRef<HTMLDivElement>(null);
  const key = JSON.stringify([categories, series, height]);
  // `key` stands for every input: the arrays are new objects on each render.
  useEffect(() => {
    if (box.current === null || categories.length === 0) return;
    const totals = series.map((_, level) =>
      categories.map((_category, index) =>
        series.slice(0, level + 1).reduce((sum, entry) => sum + (entry.values[index] ?? 0), 0),
      ),
    );
    const bars = uPlot.paths.bars!({ size: [0.6, 80] });
    const order = series.map((_, index) => index).reverse();
    const plot = new uPlot(
      {
        width: Math.max(360, Math.min(900, categories.length * 90 + 100)),
        height,
        cursor: { show: false },
        // The legend is drawn below as text: uPlot's would show values for a cursor there is not.
        legend: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: {
          x: { time: false, range: [-0.5, categories.length - 0.5] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [
          {
            splits: () => categories.map((_, index) => index),
            values: (_u, ticks) => ticks.map((tick) => categories[tick] ?? ''),
          },
          {},
        ],
        series: [
          {},
          ...order.map((index) => ({
            label: series[index]!.label,
            stroke: series[index]!.color,
            fill: series[index]!.color,
            paths: bars,
            points: { show: false },
          })),
        ],
      },
      [categories.map((_, index) => index), ...order.map((index) => totals[index]!)],
      box.current,
    );
    return () => plot.destroy();
  }, [key]);
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={label} />
      <figcaption>
        {series.map((entry) => (
          <span key={entry.label} class="legend">
            <span class="swatch" style={{ background: entry.color }} /> {entry.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
