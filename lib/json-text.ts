// JSON text from outside (an SQS body, a record or a result read from S3, an answer), parsed; when it is not JSON,
// the error says how long the text is and where the parser stopped, never a word of it. JSON.parse's own message
// quotes the text around the fault (`Unexpected token 's', "secret-tok"... is not valid JSON`), and an error message
// ends up in a log line above debug (ours, or the Lambda runtime's "Invoke Error"): payload text must not.

/** The text is not JSON. The message holds only numbers: the text's length and, when known, the parser's offset. */
export class JsonTextError extends SyntaxError {
  override name = 'JsonTextError';
}

/**
 * What went wrong with `text`, in words of our own: `N characters; the parser stopped at offset K`, or `…; it ends
 * before its JSON does`, or just `N characters`. Only the numbers come from the parser's message, whatever it says.
 */
export function describeJsonFault(err: unknown, text: string): string {
  const said = err instanceof Error ? err.message : '';
  const size = `${text.length} characters`;
  const at = /\bposition (\d+)\b/.exec(said)?.[1];
  if (at !== undefined) return `${size}; the parser stopped at offset ${at}`;
  if (/\bend of (JSON )?input\b/i.test(said)) return `${size}; it ends before its JSON does`;
  return size;
}

/** `JSON.parse(text)`, or a JsonTextError whose message quotes none of the text (and which has no cause). */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new JsonTextError(`not JSON (${describeJsonFault(err, text)})`);
  }
}
