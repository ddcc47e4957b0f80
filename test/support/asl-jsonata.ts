// A state's fields as Step Functions evaluates them in JSONata mode ("QueryLanguage": "JSONata"): a string in {% %}
// is a JSONata expression over $states, anything else is taken as it is, objects and arrays field by field.
// jsonata 2.0.6 is the version Step Functions implements.
import jsonata from 'jsonata';

/** `$states` as a state sees it: its input, and the task's result or the caught error's output. */
export interface States {
  input?: unknown;
  result?: unknown;
  errorOutput?: unknown;
}

export async function evaluate(field: unknown, states: States): Promise<unknown> {
  if (typeof field === 'string') {
    const m = /^\{%(.*)%\}$/s.exec(field);
    return m ? jsonata(m[1] ?? '').evaluate(null, { states }) : field;
  }
  if (Array.isArray(field)) return Promise.all(field.map((f) => evaluate(f, states)));
  if (typeof field === 'object' && field !== null)
    return Object.fromEntries(
      await Promise.all(Object.entries(field).map(async ([k, v]) => [k, await evaluate(v, states)] as const)),
    );
  return field;
}
