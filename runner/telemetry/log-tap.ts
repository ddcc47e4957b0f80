// The output of the function's runtime and of the extensions, passed on to the runner's stderr as it comes (the job's
// log) and cut into lines for telemetry (`function` and `extension` events). One tap per stream: a line split across
// chunks is joined, and the last one without a newline goes out when the stream ends.

/** Lines longer than this are cut (CloudWatch keeps at most 256 KB of one log event). */
export const MAX_LINE_BYTES = 256 * 1024;

export interface LogTap {
  write(chunk: Buffer): void;
  end(): void;
}

export function logTap(pass: (chunk: Buffer) => void, line: (text: string) => void): LogTap {
  let partial = '';
  const emit = (text: string) => line(text.endsWith('\r') ? text.slice(0, -1) : text);
  return {
    write(chunk) {
      pass(chunk);
      partial += chunk.toString('utf8');
      let nl = partial.indexOf('\n');
      while (nl !== -1) {
        emit(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
        nl = partial.indexOf('\n');
      }
      if (partial.length > MAX_LINE_BYTES) {
        emit(partial);
        partial = '';
      }
    },
    end() {
      if (partial) emit(partial);
      partial = '';
    },
  };
}
