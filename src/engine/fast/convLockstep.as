// Both cores on one batch that BatchNorm normalises as a whole (its
// statistics span every row, so rows cannot be split into independent
// chunks). The rows are cut into G groups, a function of the row count
// only; thread j runs the groups g with g mod threads = j, each in its own
// scratch, instruction by instruction in step with the other threads. Every
// op but BatchNorm is row-local and runs per group; BatchNorm adds the
// groups' partial sums in group order between barriers. Gradients and
// losses stay per group for the host to sum in group order, so the numbers
// do not depend on the thread count.
import {
  affine, arg, at, channelSums, inputGradient, correctSoFar, executeOne, instructionAt, lossSoFar, normalised, resetLoss, sectionLength, setAccumulate, setGroup,
  bnEps, H_DIM, H_ROWS, OP_BN, OP_BN_BWD, OP_LOSS, S_BWD, S_CHUNK, S_FINISH, S_FWD, S_PREP,
} from './conv';
import { fill } from './kernels';

/** Header word: how many groups the rows are cut into. */
const H_GROUPS: i32 = 23;

let gCfg: usize = 0;
let gScratch: usize = 0;
let gStride: usize = 0;
let gThread: i32 = 0;
let gThreads: i32 = 1;
let gGroups: i32 = 1;
let gSync: usize = 0;
let gTheta: usize = 0;
let gGrads: usize = 0;

/** Rows per group (the last may have fewer). */
function groupSize(): i32 {
  const rows = load<i32>(gCfg + (<usize>H_ROWS << 2));
  return (rows + gGroups - 1) / gGroups;
}

function groupRows(g: i32): i32 {
  const per = groupSize();
  return max(0, min(per, load<i32>(gCfg + (<usize>H_ROWS << 2)) - g * per));
}

/** Selects group g: its scratch, rows and (when grads is set) gradient slot. */
function enter(g: i32, slot: i32): void {
  const P = load<i32>(gCfg + (<usize>H_DIM << 2));
  setGroup(gCfg, gScratch + <usize>g * gStride, g * groupSize(), groupRows(g), gTheta, gGrads ? gGrads + (<usize>(slot * P) << 2) : 0);
}

/**
 * Waits until every thread has arrived (a sense-reversing barrier on two
 * shared words). The third word is the abort flag: a thread that trapped
 * cannot arrive, so its host sets the flag and bumps the generation, and
 * every thread waiting here (or arriving later) traps too instead of
 * waiting for ever. The generation is read before the flag, so an abort
 * between the two still changes the generation this thread waits on.
 */
function barrier(): void {
  if (gThreads == 1) return;
  const generation = atomic.load<i32>(gSync, 4);
  if (atomic.load<i32>(gSync, 8) != 0) unreachable();
  if (atomic.add<i32>(gSync, 1) == gThreads - 1) {
    atomic.store<i32>(gSync, 0);
    atomic.add<i32>(gSync + 4, 1);
    atomic.notify(gSync + 4, gThreads);
  } else {
    while (atomic.load<i32>(gSync, 4) == generation) atomic.wait<i32>(gSync + 4, generation, -1);
  }
  if (atomic.load<i32>(gSync, 8) != 0) unreachable();
}

/**
 * Parameter vectors 0..m−1 of `thetas`, each over all G groups. Group g of
 * vector i writes its loss sum and right predictions to losses + 16·(i·G + g)
 * and its gradient to grads + 4·P·(i·G + g) (grads 0: no gradients).
 * `sync` holds the barrier's two words and the abort flag, zeroed by the host.
 */
export function cnn_lockstep(cfg: usize, scratch: usize, stride: i32, thetas: usize, m: i32, thread: i32, threads: i32, losses: usize, grads: usize, sync: usize): void {
  gCfg = cfg;
  gScratch = scratch;
  gStride = <usize>stride;
  gThread = thread;
  gThreads = threads;
  gGroups = load<i32>(cfg + (<usize>H_GROUPS << 2));
  gSync = sync;
  const P = load<i32>(cfg + (<usize>H_DIM << 2));
  for (let i = 0; i < m; i++) {
    gTheta = thetas + (<usize>(i * P) << 2);
    gGrads = grads;
    eachGroup(i, S_PREP);
    if (grads) eachGroup(i, S_CHUNK);
    lockstep(i, S_FWD, losses);
    if (grads) {
      lockstep(i, S_BWD, losses);
      setAccumulate(0);
      eachGroup(i, S_FINISH);
    }
    barrier();
  }
}

function eachGroup(vector: i32, section: i32): void {
  const n = sectionLength(gCfg, section);
  for (let g = gThread; g < gGroups; g += gThreads) {
    enter(g, vector * gGroups + g);
    for (let k = 0; k < n; k++) executeOne(instructionAt(gCfg, section, k));
  }
}

/** A section instruction by instruction across this thread's groups, BatchNorm across all groups. */
function lockstep(vector: i32, section: i32, losses: usize): void {
  const n = sectionLength(gCfg, section);
  for (let k = 0; k < n; k++) {
    const ins = instructionAt(gCfg, section, k);
    const op = load<i32>(ins);
    if (op == OP_BN && arg(ins, 7) == 0) batchNormForward(vector, ins);
    else if (op == OP_BN_BWD && arg(ins, 7) == 0) batchNormBackward(vector, ins);
    else {
      for (let g = gThread; g < gGroups; g += gThreads) {
        enter(g, vector * gGroups + g);
        if (op == OP_LOSS) resetLoss();
        executeOne(ins);
        if (op == OP_LOSS) {
          const slot = losses + (<usize>(vector * gGroups + g) << 4);
          store<f64>(slot, lossSoFar());
          store<f64>(slot + 8, <f64>correctSoFar());
        }
      }
    }
  }
}

/** Scratch address of group g's copy of a region (every group's scratch has the same layout). */
function inGroup(g: i32, offset: i32): usize {
  return gScratch + <usize>g * gStride + <usize>offset;
}

/** Σ over groups, in group order, of float64 values at `offset` + 8·c in each group's scratch. */
function acrossGroups(offset: i32, c: i32): f64 {
  let s: f64 = 0;
  for (let g = 0; g < gGroups; g++) s += load<f64>(inGroup(g, offset) + (<usize>c << 3));
  return s;
}

function totalCount(hw: i32): f64 {
  return <f64>(load<i32>(gCfg + (<usize>H_ROWS << 2)) * hw);
}

// BatchNorm's scratch (instruction word 17): sums [cp f64], second sums [cp f64], lanes [8 f32].
function batchNormForward(vector: i32, ins: usize): void {
  const cp = arg(ins, 3), hw = arg(ins, 4), C = arg(ins, 12), sums = arg(ins, 17);
  const total = totalCount(hw);
  for (let g = gThread; g < gGroups; g += gThreads) {
    enter(g, vector * gGroups + g);
    channelSums(at(arg(ins, 1)), 0, 0, groupRows(g) * hw, cp, at(sums));
  }
  barrier();
  for (let g = gThread; g < gGroups; g += gThreads) {
    enter(g, vector * gGroups + g);
    const mean = at(arg(ins, 10));
    fill(mean, cp, 0);
    for (let c = 0; c < C; c++) store<f32>(mean + (<usize>c << 2), <f32>(acrossGroups(sums, c) / total));
    channelSums(at(arg(ins, 1)), 0, mean, groupRows(g) * hw, cp, at(sums) + (<usize>cp << 3));
  }
  barrier();
  for (let g = gThread; g < gGroups; g += gThreads) {
    enter(g, vector * gGroups + g);
    const inv = at(arg(ins, 11));
    fill(inv, cp, 0);
    for (let c = 0; c < C; c++) store<f32>(inv + (<usize>c << 2), <f32>(1 / Math.sqrt(acrossGroups(sums + (cp << 3), c) / total + bnEps(ins))));
    affine(ins, groupRows(g) * hw, cp);
  }
  // The sums are read by other threads until everyone has passed the phase above.
  barrier();
}

function batchNormBackward(vector: i32, ins: usize): void {
  const cp = arg(ins, 3), hw = arg(ins, 4), C = arg(ins, 12), sums = arg(ins, 17);
  const total = totalCount(hw);
  for (let g = gThread; g < gGroups; g += gThreads) {
    enter(g, vector * gGroups + g);
    const count = groupRows(g) * hw;
    const ddst = at(arg(ins, 13)), dsrc = at(arg(ins, 14));
    // x̂ goes where dx will be written, as in conv.as's batchNormBackward.
    normalised(at(arg(ins, 1)), at(arg(ins, 10)), at(arg(ins, 11)), count, cp, dsrc);
    channelSums(ddst, 0, 0, count, cp, at(sums));
    channelSums(ddst, dsrc, 0, count, cp, at(sums) + (<usize>cp << 3));
    // This group's share of dγ and dβ: the groups' shares add up to the whole.
    const ggamma = at(arg(ins, 15)), gbeta = at(arg(ins, 16));
    for (let c = 0; c < C; c++) {
      const co = <usize>c << 2;
      store<f32>(gbeta + co, load<f32>(gbeta + co) + <f32>load<f64>(at(sums) + (<usize>c << 3)));
      store<f32>(ggamma + co, load<f32>(ggamma + co) + <f32>load<f64>(at(sums) + (<usize>(cp + c) << 3)));
    }
  }
  barrier();
  for (let g = gThread; g < gGroups; g += gThreads) {
    enter(g, vector * gGroups + g);
    const lanes = at(sums) + (<usize>(2 * cp) << 3);
    const count = groupRows(g) * hw;
    for (let c = 0; c < cp; c += 4) {
      for (let l = 0; l < 4; l++) {
        const ch = c + l;
        store<f32>(lanes + (<usize>l << 2), ch < C ? <f32>(acrossGroups(sums, ch) / total) : 0);
        store<f32>(lanes + (<usize>(l + 4) << 2), ch < C ? <f32>(acrossGroups(sums + (cp << 3), ch) / total) : 0);
      }
      inputGradient(ins, count, cp, c, lanes);
    }
  }
  barrier();
}
