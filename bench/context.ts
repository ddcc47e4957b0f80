// What every bench figure gets: the harness, a scratch folder, the repetition count, and the comparison shape.
import type { Harness } from '../test/integration/harness/index.js';
import { median, medianByKey, round } from './stats.js';

export interface BenchContext {
  h: Harness;
  /** a temp folder, removed at the end */
  scratch: string;
  reps: number;
  /** the python3 interpreter the runner starts (pyenv shim resolved) */
  python: string;
  /** progress lines on stderr */
  progress(line: string): void;
}

/** A speed figure: the runner against its baseline, medians of interleaved runs. */
export interface Comparison {
  /** median runner time / median baseline time: the headline */
  ratio: number;
  runnerMs: number;
  baselineMs: number;
  /** runner minus baseline (medians), in ms */
  extraMs: number;
  runnerRunsMs: number[];
  baselineRunsMs: number[];
  /** median of each runner debug step, ms (`(at)` entries are moments since the runner's logger started) */
  runnerSteps?: Record<string, number>;
  /** median of each baseline step, ms */
  baselineSteps?: Record<string, number>;
}

export function compare(
  runner: readonly number[],
  baseline: readonly number[],
  steps: { runner?: Record<string, number>[]; baseline?: Record<string, number>[] } = {},
): Comparison {
  const r = median(runner);
  const b = median(baseline);
  return {
    ratio: round(r / b, 3),
    runnerMs: round(r),
    baselineMs: round(b),
    extraMs: round(r - b),
    runnerRunsMs: runner.map((x) => round(x)),
    baselineRunsMs: baseline.map((x) => round(x)),
    ...(steps.runner ? { runnerSteps: medianByKey(steps.runner) } : {}),
    ...(steps.baseline ? { baselineSteps: medianByKey(steps.baseline) } : {}),
  };
}
