// What the platform reports of a run, once, whichever API a subscriber took: the Telemetry API renders these facts as
// its `platform.*` events, the Logs API as its own (events.ts). Times are epoch ms.
import type { InvokeStatus, ReportMetrics } from '../platform/report-lines.js';

export type PlatformFact =
  | { type: 'initStart'; at: number }
  | { type: 'initRuntimeDone'; at: number; status: InvokeStatus; errorType?: string }
  | { type: 'initReport'; at: number; durationMs: number; status: InvokeStatus; errorType?: string }
  | { type: 'start'; at: number; requestId: string; version: string; traceId: string }
  | {
      type: 'runtimeDone';
      at: number;
      requestId: string;
      status: InvokeStatus;
      errorType?: string;
      durationMs: number;
      producedBytes?: number;
      traceId: string;
    }
  | {
      type: 'report';
      at: number;
      requestId: string;
      status: InvokeStatus;
      errorType?: string;
      metrics: ReportMetrics;
      traceId: string;
    }
  | { type: 'extension'; at: number; name: string; state: string; events: string[] }
  | {
      type: 'subscription';
      at: number;
      api: 'telemetry' | 'logs';
      name: string;
      state: string;
      types: string[];
    }
  | { type: 'logsDropped'; at: number; droppedRecords: number; droppedBytes: number; reason: string };

/** One line of the function's or an extension's output. */
export interface LogLine {
  type: 'function' | 'extension';
  at: number;
  line: string;
}

/** Where the platform's facts and the output's lines go (the telemetry hub; nowhere when nothing subscribes). */
export interface TelemetrySink {
  platform(fact: PlatformFact): void;
  log(line: LogLine): void;
  /** Init is over (subscriptions close). */
  initEnded(): void;
}

export const noTelemetry: TelemetrySink = { platform() {}, log() {}, initEnded() {} };
