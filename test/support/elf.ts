// Native code for the architecture tests, built by the C compilers of this machine: the host's gcc and Debian's cross
// compilers (gcc-aarch64-linux-gnu, gcc-x86-64-linux-gnu; scripts/docker-setup.sh installs the first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Arch = 'x86_64' | 'arm64';

export const hostArch: Arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
export const otherArch: Arch = hostArch === 'arm64' ? 'x86_64' : 'arm64';

const compilers: Record<Arch, string> = { x86_64: 'x86_64-linux-gnu-gcc', arm64: 'aarch64-linux-gnu-gcc' };

/** The C compiler that builds for `arch`, or undefined when this machine has none. */
export function compilerFor(arch: Arch): string | undefined {
  for (const cc of arch === hostArch ? ['gcc', 'cc', compilers[arch]] : [compilers[arch]])
    if (spawnSync(cc, ['--version']).status === 0) return cc;
  return undefined;
}

/** Why the tests of `arch`'s native code cannot run here (one line), or undefined when they can. */
export function missingCompiler(arch: Arch): string | undefined {
  return compilerFor(arch)
    ? undefined
    : `no C compiler for ${arch} here (${compilers[arch]}, Debian's gcc-${arch === 'arm64' ? 'aarch64' : 'x86-64'}-linux-gnu)`;
}

/** Compiles `source` for `arch` into `out`: a shared object (`-shared`), or a static program that prints a line. */
export function compile(arch: Arch, out: string, kind: 'shared' | 'program'): void {
  const cc = compilerFor(arch);
  if (!cc) throw new Error(missingCompiler(arch));
  const dir = mkdtempSync(join(tmpdir(), 'elf-'));
  const src = join(dir, 'native.c');
  writeFileSync(
    src,
    kind === 'shared'
      ? 'int answer(void) { return 42; }\n'
      : `#include <stdio.h>\nint main(void) { puts("native code for ${arch} ran"); return 0; }\n`,
  );
  const args = kind === 'shared' ? ['-shared', '-fPIC'] : ['-static', '-Os', '-s'];
  const r = spawnSync(cc, [...args, '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cc} failed: ${r.stderr}`);
}
