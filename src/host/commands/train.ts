import { TrainFormSchema } from '../../protocol';
import { validate } from '../../schema';
import type { Services } from '../services';

/** Landscape: Train — landscape.json (or the defaults), no questions asked. */
export async function train(s: Services, form?: unknown): Promise<void> {
  // Only the side view passes a form; anything else (e.g. an explorer Uri) is ignored.
  const v = form === undefined ? undefined : validate(TrainFormSchema, form, 'form');
  await s.training.start(v?.ok ? v.value : undefined);
}
