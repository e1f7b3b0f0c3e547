/**
 * The side view's charts of the live run: the four training charts and,
 * once the run reports stability checks, λmax against 2/η. It keeps a copy
 * of the run's points so deltas can be checked to continue it exactly.
 */
import type { EpochPoint, HostMessage, LiveRun, StabilityPoint } from '../src/protocol';
import { Chart, TrainingCharts } from './charts';
import { stabilityFigure } from './stability';

type RunDelta = Extract<HostMessage, { type: 'runDelta' }>;

function stabilityChart(): Chart {
  return new Chart({
    id: 'chart-stability',
    title: 'Stability: λmax against 2/η',
    ariaLabel: 'Top Hessian eigenvalue of the training loss at each stability check, against the largest value the learning rate is stable for (the 2/η line); the verdict is in the hover',
    xTitle: 'epoch',
    yTitle: 'λmax',
    traces: [],
    emptyText: 'no stability checks yet',
    exportName: 'training-stability',
  });
}

export class LiveRunCharts {
  readonly element: HTMLElement;
  private readonly charts = new TrainingCharts('chart', 'training');
  private readonly stability = stabilityChart();
  private runId: string | null = null;
  private points: EpochPoint[] = [];
  private checks: StabilityPoint[] = [];
  /** The live run's epochs (where the 2/η line ends). */
  private epochs = 0;

  constructor() {
    // Shown once a run reports stability checks (stabilityEvery), so runs without them keep four charts.
    this.stability.card.hidden = true;
    this.charts.element.appendChild(this.stability.card);
    this.element = this.charts.element;
  }

  /** Start over from a snapshot of the run (or of no run). */
  show(live: LiveRun | null): void {
    this.runId = live?.runId ?? null;
    this.points = live ? live.points.slice() : [];
    this.checks = live?.stability ? live.stability.slice() : [];
    this.epochs = live?.status.epochs ?? 0;
    this.charts.set(this.points);
    this.drawStability();
  }

  /** Whether the delta continues the copy exactly (same run, no gap); if not, nothing is drawn. */
  continues(d: RunDelta): boolean {
    return d.runId === this.runId && d.from === this.points.length && (!d.stability || d.stability.from === this.checks.length);
  }

  /** Append a delta that continues() the copy. */
  extend(d: RunDelta): void {
    this.points.push(...d.points);
    this.charts.extend(d.points);
    if (d.status) this.epochs = d.status.epochs;
    if (d.stability?.points.length) {
      this.checks.push(...d.stability.points);
      this.drawStability();
    }
  }

  private drawStability(): void {
    this.stability.card.hidden = this.checks.length === 0;
    if (this.checks.length) this.stability.setFigure(stabilityFigure(this.checks, this.epochs || undefined));
  }
}
