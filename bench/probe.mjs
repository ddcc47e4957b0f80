// Preloaded into a measured node process (`node --import`): at exit, writes its own peak RSS and lifetime as JSON.
// resourceUsage() is getrusage(RUSAGE_SELF): the runtime the runner starts is another process and is not counted.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(
      file,
      JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, lifetimeMs: performance.now() }),
    );
  });
}
