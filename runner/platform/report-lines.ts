// The lines Lambda writes around each invocation into the function's log: `START`, `END` and `REPORT` in the text log
// format; with a JSON LoggingConfig, the `platform.start`, `platform.runtimeDone` and `platform.report` records instead,
// one JSON object a line, each only when the function's SystemLogLevel lets it through (start and report at INFO,
// runtimeDone at DEBUG: "Log-level filtering", event mapping for system log levels).

export type InvokeStatus = 'success' | 'failure' | 'timeout' | 'error';

export interface ReportMetrics {
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  maxMemoryUsedMB: number;
  /** the first invocation of a runtime only */
  initDurationMs?: number;
}

export interface LogLineFormat {
  format: 'Text' | 'JSON';
  /** DEBUG, INFO (Lambda's default) or WARN */
  systemLogLevel: string;
}

const LEVELS = ['DEBUG', 'INFO', 'WARN'];
const passes = (f: LogLineFormat, level: string) =>
  LEVELS.indexOf(level) >= Math.max(0, LEVELS.indexOf(f.systemLogLevel.toUpperCase()));

const round2 = (n: number) => Math.round(n * 100) / 100;
const json = (type: string, record: object, at: number) =>
  `${JSON.stringify({ time: new Date(at).toISOString(), type, record })}\n`;

export function startLine(f: LogLineFormat, requestId: string, version: string, at: number): string {
  if (f.format !== 'JSON') return `START RequestId: ${requestId} Version: ${version}\n`;
  return passes(f, 'INFO') ? json('platform.start', { requestId, version }, at) : '';
}

export function endLine(
  f: LogLineFormat,
  requestId: string,
  end: { status: InvokeStatus; errorType?: string; durationMs: number },
  at: number,
): string {
  if (f.format !== 'JSON') return `END RequestId: ${requestId}\n`;
  if (!passes(f, 'DEBUG')) return '';
  const record = {
    requestId,
    status: end.status,
    ...(end.errorType ? { errorType: end.errorType } : {}),
    metrics: { durationMs: round2(end.durationMs) },
  };
  return json('platform.runtimeDone', record, at);
}

export function reportLine(
  f: LogLineFormat,
  requestId: string,
  r: { status: InvokeStatus; errorType?: string; metrics: ReportMetrics },
  at: number,
): string {
  const m = r.metrics;
  if (f.format === 'JSON') {
    if (!passes(f, 'INFO')) return '';
    const record = {
      requestId,
      metrics: reportMetrics(m),
      status: r.status,
      ...(r.errorType ? { errorType: r.errorType } : {}),
    };
    return json('platform.report', record, at);
  }
  const init = m.initDurationMs === undefined ? '' : `\tInit Duration: ${m.initDurationMs.toFixed(2)} ms`;
  // A timed-out or crashed invocation's REPORT says so, as Lambda's does.
  const status =
    r.status === 'timeout' || r.status === 'error'
      ? `\tStatus: ${r.status}${r.errorType ? `\tError Type: ${r.errorType}` : ''}`
      : '';
  return (
    `REPORT RequestId: ${requestId}\tDuration: ${m.durationMs.toFixed(2)} ms\tBilled Duration: ${m.billedDurationMs} ms` +
    `\tMemory Size: ${m.memorySizeMB} MB\tMax Memory Used: ${m.maxMemoryUsedMB} MB${init}${status}\n`
  );
}

/** The report's metrics as the telemetry schema names them (durations to two decimals, as Lambda gives them). */
export function reportMetrics(m: ReportMetrics): ReportMetrics {
  return {
    durationMs: round2(m.durationMs),
    billedDurationMs: m.billedDurationMs,
    memorySizeMB: m.memorySizeMB,
    maxMemoryUsedMB: m.maxMemoryUsedMB,
    ...(m.initDurationMs === undefined ? {} : { initDurationMs: round2(m.initDurationMs) }),
  };
}
