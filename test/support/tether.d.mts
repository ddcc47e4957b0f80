// Types of test/support/tether.mjs (children that end with the process that started them), for the TypeScript tests.
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export function spawnTethered(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
export function endGroup(child: ChildProcess, signal?: NodeJS.Signals): void;
