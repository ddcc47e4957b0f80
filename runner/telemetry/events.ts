// The platform's facts and the output's lines as each API's subscribers receive them: `{time, type, record}` objects
// (Telemetry API Event schema reference; Logs API, Log messages). The Telemetry API has the init and invoke events
// (platform.initStart … platform.report); the Logs API has platform.start, platform.end, platform.report, and
// platform.runtimeDone from schema 2021-03-18 on. `errorType` appears from the Telemetry API's 2022-12-13 schema on.
import { reportMetrics } from '../platform/report-lines.js';
import type { LogLine, PlatformFact } from './facts.js';
import type { Subscription, TelemetryType } from './subscription.js';

export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

/** The category a subscriber's `types` must name for it to get an event of `type`. */
export function categoryOf(type: string): TelemetryType {
  return type === 'function' || type === 'extension' ? type : 'platform';
}

const tracing = (traceId: string) => ({ type: 'X-Amzn-Trace-Id', value: traceId });
const init = { initializationType: 'on-demand', phase: 'init' } as const;

function telemetryRecord(fact: PlatformFact, withErrorType: boolean): [string, object] | undefined {
  const err = (e?: string) => (withErrorType && e ? { errorType: e } : {});
  switch (fact.type) {
    case 'initStart':
      return ['platform.initStart', init];
    case 'initRuntimeDone':
      return ['platform.initRuntimeDone', { ...init, status: fact.status, ...err(fact.errorType) }];
    case 'initReport':
      return [
        'platform.initReport',
        {
          ...init,
          metrics: { durationMs: Math.round(fact.durationMs * 100) / 100 },
          status: fact.status,
          ...err(fact.errorType),
        },
      ];
    case 'start':
      return [
        'platform.start',
        { requestId: fact.requestId, version: fact.version, tracing: tracing(fact.traceId) },
      ];
    case 'runtimeDone':
      return [
        'platform.runtimeDone',
        {
          requestId: fact.requestId,
          status: fact.status,
          ...err(fact.errorType),
          metrics: {
            durationMs: Math.round(fact.durationMs * 100) / 100,
            ...(fact.producedBytes === undefined ? {} : { producedBytes: fact.producedBytes }),
          },
          tracing: tracing(fact.traceId),
        },
      ];
    case 'report':
      return [
        'platform.report',
        {
          requestId: fact.requestId,
          status: fact.status,
          ...err(fact.errorType),
          metrics: reportMetrics(fact.metrics),
          tracing: tracing(fact.traceId),
        },
      ];
    case 'extension':
      return ['platform.extension', { name: fact.name, state: fact.state, events: fact.events }];
    case 'subscription':
      return fact.api === 'telemetry'
        ? ['platform.telemetrySubscription', { name: fact.name, state: fact.state, types: fact.types }]
        : undefined;
    case 'logsDropped':
      return [
        'platform.logsDropped',
        { droppedBytes: fact.droppedBytes, droppedRecords: fact.droppedRecords, reason: fact.reason },
      ];
  }
}

/** A runtimeDone's status in the Logs API's words (success, failure or timeout). */
const logsStatus = (s: string) => (s === 'error' ? 'failure' : s);

function logsRecords(fact: PlatformFact, schema: string): [string, object][] {
  switch (fact.type) {
    case 'start':
      return [['platform.start', { requestId: fact.requestId, version: fact.version }]];
    case 'runtimeDone': {
      const end: [string, object] = ['platform.end', { requestId: fact.requestId }];
      if (schema === '2020-08-15') return [end];
      return [['platform.runtimeDone', { requestId: fact.requestId, status: logsStatus(fact.status) }], end];
    }
    case 'report':
      return [['platform.report', { requestId: fact.requestId, metrics: reportMetrics(fact.metrics) }]];
    case 'extension':
      return [['platform.extension', { name: fact.name, state: fact.state, events: fact.events }]];
    case 'subscription':
      return fact.api === 'logs'
        ? [['platform.logsSubscription', { name: fact.name, state: fact.state, types: fact.types }]]
        : [];
    case 'logsDropped':
      return [
        [
          'platform.logsDropped',
          { reason: fact.reason, droppedRecords: fact.droppedRecords, droppedBytes: fact.droppedBytes },
        ],
      ];
    default:
      return [];
  }
}

/** The events a subscriber of `sub`'s API and schema gets for `fact` (none, one, or the Logs API's two). */
export function platformEvents(
  fact: PlatformFact,
  sub: Pick<Subscription, 'api' | 'schemaVersion'>,
): TelemetryEvent[] {
  const time = new Date(fact.at).toISOString();
  if (sub.api === 'logs')
    return logsRecords(fact, sub.schemaVersion).map(([type, record]) => ({ time, type, record }));
  const r = telemetryRecord(fact, sub.schemaVersion !== '2022-07-01');
  return r ? [{ time, type: r[0], record: r[1] }] : [];
}

/**
 * A line of output as an event: its text, or, for the function's JSON log format, the object the line holds (Lambda
 * sends a JSON-formatted log's record as the object).
 */
export function logEvent(line: LogLine, jsonLogs: boolean): TelemetryEvent {
  let record: unknown = line.line;
  if (jsonLogs && line.type === 'function' && line.line.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(line.line);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed;
    } catch {
      // not JSON after all: the text
    }
  }
  return { time: new Date(line.at).toISOString(), type: line.type, record };
}
