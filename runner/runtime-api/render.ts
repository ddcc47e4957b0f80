// The one place that renders Runtime API answers: Lambda's `{errorMessage, errorType}` bodies and the 202.
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

export function sendAccepted(res: ServerResponse): void {
  const body = '{"status":"OK"}';
  res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
