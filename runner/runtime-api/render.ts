// The one place that renders the API's answers: Lambda's `{errorMessage, errorType}` bodies, the 202, and the JSON
// answers of the Extensions, Telemetry and Logs APIs.
import type { ServerResponse } from 'node:http';

/** Error types the Runtime API answers with, as Lambda names them. */
export const ApiErrorType = {
  invalidRequestId: 'InvalidRequestID',
  invalidState: 'InvalidStateTransition',
  tooLarge: 'RequestEntityTooLarge',
  notFound: 'NotFound',
  badRequest: 'InvalidRequest',
} as const;
export type ApiErrorType = (typeof ApiErrorType)[keyof typeof ApiErrorType];

export function sendError(
  res: ServerResponse,
  status: number,
  errorType: ApiErrorType,
  message: string,
): void {
  sendRefusalBody(res, status, errorType, message);
}

/** An error answer with any of the APIs' error types (`Extension.…`, `ValidationError`, `Logs.…`). */
export function sendRefusalBody(
  res: ServerResponse,
  status: number,
  errorType: string,
  message: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ errorMessage: message, errorType });
  // Close the connection: the client may still be sending a body we refuse to read.
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
}

/** A JSON answer (`value` serialized), with extra headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendAccepted(res: ServerResponse): void {
  const body = '{"status":"OK"}';
  res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
