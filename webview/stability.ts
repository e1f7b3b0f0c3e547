/**
 * The stability chart of a training run (stabilityEvery): λmax at each check
 * against the 2/η line, the largest λmax the learning rate is stable for,
 * with the verdict in the hover; built from the theme.
 */
import type { StabilityPoint } from '../src/protocol';
import type { Theme } from './charts';
import { stabilitySeries } from './stabilitySeries';

export { stabilitySeries } from './stabilitySeries';

export function verdictColor(v: StabilityPoint['verdict'], t: Theme): string {
  return v === 'stable' ? t.colors.green : v === 'edge' ? t.colors.yellow : v === 'unstable' ? t.colors.red : t.muted;
}

/** λmax per check (markers coloured by verdict) and the 2/η line. */
export function stabilityFigure(points: readonly StabilityPoint[], lastEpoch?: number) {
  return (t: Theme) => {
    const s = stabilitySeries(points, lastEpoch);
    const data: Plotly.Trace[] = [
      {
        name: 'λmax',
        type: 'scatter',
        mode: 'lines+markers',
        x: s.epochs,
        y: s.lambda,
        error_y: { type: 'data', array: s.errors, visible: s.errors.some((e) => e > 0), color: t.colors.blue, thickness: 1 },
        line: { color: t.colors.blue, width: t.highContrast ? 3 : 2 },
        marker: { color: s.verdicts.map((v) => verdictColor(v, t)), size: 8, line: { color: t.fg, width: 1 } },
        text: s.hover,
        hovertemplate: '%{text}<extra></extra>',
      },
    ];
    if (s.threshold) {
      data.push({
        name: '2/η line',
        type: 'scatter',
        mode: 'lines',
        x: s.threshold.x,
        y: s.threshold.y,
        line: { color: t.colors.red, width: 2, dash: 'dash', shape: s.threshold.constant ? 'linear' : 'hv' },
        hovertemplate: '2/η = %{y:.4g}<extra></extra>',
      });
    }
    return {
      data,
      layout: {
        showlegend: true,
        yaxis: { rangemode: 'tozero', showticklabels: true },
        xaxis: { showticklabels: true },
      },
    };
  };
}
