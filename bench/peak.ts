/**
 * The machine's nominal WebAssembly SIMD peak, as the README counts it for
 * W5: two 128-bit fused multiply-adds per cycle per core (4 lanes × 2 FLOP ×
 * 2 = 16 FLOP per cycle) × the clock × the cores. Fused multiply-adds need
 * relaxed SIMD; with plain SIMD a multiply and an add are two instructions,
 * so half of this is the realistic ceiling there. The clock is the one the
 * operating system reports (no turbo), so the figure is nominal.
 */
import * as fs from 'fs';
import * as os from 'os';

export interface SimdPeak {
  gflops: number;
  ghz: number;
  cores: number;
}

const FLOP_PER_CYCLE_PER_CORE = 16;

/** MHz from os.cpus(), else /proc/cpuinfo's "cpu MHz" (some virtual machines report a speed of 0). */
function clockMhz(): number {
  const fromOs = os.cpus()[0]?.speed ?? 0;
  if (fromOs > 0) return fromOs;
  try {
    const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export function simdPeak(): SimdPeak {
  const ghz = clockMhz() / 1000;
  const cores = os.cpus().length;
  return { gflops: FLOP_PER_CYCLE_PER_CORE * ghz * cores, ghz, cores };
}

/** "12 %" of the peak, or "n/a" when the clock is unknown. */
export function fmtPeakShare(gflops: number, peak: SimdPeak): string {
  const share = (100 * gflops) / peak.gflops;
  return Number.isFinite(share) ? `${share < 10 ? share.toFixed(1) : share.toFixed(0)} %` : 'n/a';
}
