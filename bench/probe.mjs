// Preloaded into a measured node process (`node --import`): at exit, writes its own peak RSS, lifetime and CPU time
// (user + system, all its threads; not its children's) as JSON.
// Peak RSS is VmHWM from /proc/self/status: it belongs to this process's address space since exec. Not
// resourceUsage().maxRSS: Linux carries the pre-exec high-water mark over exec, i.e. the forking parent's
// RSS (the bench process), which would hide the runner's own. The runtime is another process either way.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.BENCH_PROBE_FILE;

function peakRssKb() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}

if (file) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const cpuMs = (cpu.user + cpu.system) / 1000;
    writeFileSync(file, JSON.stringify({ maxRssKb: peakRssKb(), lifetimeMs: performance.now(), cpuMs }));
  });
}
