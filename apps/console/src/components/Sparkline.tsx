// A per-minute series as a small uPlot line, with its figures also given as text for screen
// readers and tests (the canvas itself says nothing).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface SparklineProps {
  label: string;
  values: Array<number | null>;
  color: string;
}

export function Sparkline({ label, values, color }: SparklineProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const known = values.filter((value): value is number => value !== null);
  const summary =
    known.length === 0
      ? `${label}: not measured yet`
      : `${label}: last ${known.at(-1)} per minute, peak ${Math.max(...known)} over ${known.length} minutes`;

  useEffect(() => {
    if (box.current === null) return;
    const x = values.map((_, index) => index);
    const data: uPlot.AlignedData = [x, values];
    if (plot.current === null) {
      plot.current = new uPlot(
        {
          width: 120,
          height: 28,
          cursor: { show: false },
          legend: { show: false },
          select: { show: false, left: 0, top: 0, width: 0, height: 0 },
          axes: [{ show: false }, { show: false }],
          scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
          series: [{}, { stroke: color, width: 1.5, spanGaps: false, points: { show: false } }],
        },
        data,
        box.current,
      );
    } else {
      plot.current.setData(data);
    }
  }, [values, color]);

  useEffect(
    () => () => {
      plot.current?.destroy();
      plot.current = null;
    },
    [],
  );

  return (
    <div class="sparkline" ref={box} role="img" aria-label={summary} title={summary}>
      {known.length === 0 && <span class="hint">not measured yet</span>}
    </div>
  );
}
