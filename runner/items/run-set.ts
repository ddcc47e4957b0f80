// One child of an item set (DESIGN.md "Item sets").
import { UsageError } from '../errors.js';
import type { ItemSetOptions, RunOptions } from '../options.js';
import type { RunDeps, RunResult } from '../run.js';

export async function runItemSet(
  _opts: RunOptions,
  _items: ItemSetOptions,
  _deps: RunDeps,
): Promise<RunResult> {
  throw new UsageError('item sets are not supported yet');
}
