// Whether this machine runs an architecture's binaries: its own always; the other one only under the qemu interpreter
// registered with binfmt_misc, with the F flag (the interpreter opened at registration) so that it works inside
// containers too. The arm64 stand-ins and images need it on an x86_64 machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../../images/matrix.mjs';

/** This machine's architecture, in Lambda's words. */
export const HOST_ARCH: Arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
const QEMU: Record<Arch, string> = { x86_64: 'qemu-x86_64', arm64: 'qemu-aarch64' };

/**
 * Why `arch`'s binaries cannot run here, or undefined when they can: this machine's own architecture always can; the
 * other one needs its qemu interpreter registered with binfmt_misc, with the F flag so that it works in containers.
 */
export function emulationMissing(arch: Arch, binfmtDir = '/proc/sys/fs/binfmt_misc'): string | undefined {
  if (arch === HOST_ARCH) return undefined;
  const entry = join(binfmtDir, QEMU[arch]);
  let text = '';
  try {
    text = readFileSync(entry, 'utf8');
  } catch {
    return `${arch} binaries run here only under ${QEMU[arch]} registered with binfmt_misc, and ${entry} does not exist (scripts/docker-setup.sh registers it, as root)`;
  }
  if (!/^enabled$/m.test(text)) return `${entry} is disabled (scripts/docker-setup.sh enables it, as root)`;
  if (!/^flags: \S*F/m.test(text))
    return `${entry} lacks the F flag, without which the emulator is not found inside containers (scripts/docker-setup.sh registers it with F)`;
  return undefined;
}
