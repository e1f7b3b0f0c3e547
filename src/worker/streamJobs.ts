/**
 * The worker's long jobs that the engine runs as generators (training, the
 * optimizer study): every event goes to the host as it comes, with a turn of
 * the event loop in between so a 'cancel' message gets in.
 */
import { train } from '../engine/train';
import type { RunJson, TrainConfig, TrainEvent } from '../engine/train';
import { runStudy, summaryLines } from '../engine/study';
import type { StudyOptions, StudyPreset } from '../engine/study/study';
import { withQueueSession } from '../queue/withQueueRunner';
import type { StudyJobEvent, StudyJobResult } from './protocol';

export interface StreamContext<E> {
  backend: string;
  /** The landscape.queue setting, when set: the study's runs and paths go to its workers. */
  queue?: string;
  signal: AbortSignal;
  emit(event: E): void;
  log?(line: string): void;
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

export async function trainJob(config: TrainConfig, ctx: StreamContext<TrainEvent>): Promise<RunJson> {
  const it = train(config, { signal: ctx.signal });
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
    ctx.emit(r.value);
    // Let the 'cancel' message in between epochs (the shared flag covers mid-epoch).
    await nextTurn();
  }
}

export async function studyJob(req: { out: string; preset: StudyPreset }, ctx: StreamContext<StudyJobEvent>): Promise<StudyJobResult> {
  return withQueueSession(ctx.queue, ctx.log, (q) => {
    if (q) ctx.log?.(`study: training runs and paths go to the ${q.where} (${q.workers} worker${q.workers === 1 ? '' : 's'} connected)`);
    return streamStudy(req, ctx, q && { pairRunner: q.runner, runRunner: q.runRunner });
  });
}

async function streamStudy(req: { out: string; preset: StudyPreset }, ctx: StreamContext<StudyJobEvent>, runners: Pick<StudyOptions, 'pairRunner' | 'runRunner'> | undefined): Promise<StudyJobResult> {
  const it = runStudy({ out: req.out, preset: req.preset, backend: ctx.backend, signal: ctx.signal, ...runners });
  let files: { studyJson: string; reportHtml: string } | undefined;
  for (;;) {
    const r = await it.next();
    if (r.done) {
      if (!files) throw new Error('the study finished without writing its report');
      return {
        ...files,
        summary: summaryLines(r.value),
        verdicts: r.value.verdicts.map((v) => ({ claim: v.claim, reproduced: v.reproduced })),
      };
    }
    const ev = r.value;
    // The full result is on disk (study.json); the host only needs where.
    if (ev.type === 'done') files = { studyJson: ev.studyJson, reportHtml: ev.reportHtml };
    else ctx.emit(ev);
    await nextTurn();
  }
}
