// What Batch does to a job definition's command and environment before it starts the container (pure, unit-tested).

/**
 * Replaces every command argument that is exactly `Ref::name` with the parameter's value, as Batch does;
 * an argument naming no parameter is passed on literally, as Batch passes it.
 * @example substituteRefs(['run', 'Ref::url'], { url: 's3://b/k' }) // ['run', 's3://b/k']
 */
export function substituteRefs(
  command: readonly string[],
  parameters: Readonly<Record<string, string>>,
): string[] {
  return command.map((arg) => {
    if (!arg.startsWith('Ref::')) return arg;
    const name = arg.slice('Ref::'.length);
    return Object.hasOwn(parameters, name) ? (parameters[name] ?? arg) : arg;
  });
}

/** Parameters in effect: the definition's defaults, overridden by the job's own. */
export function mergeParameters(
  ...layers: (Readonly<Record<string, string>> | undefined)[]
): Record<string, string> {
  return Object.assign({}, ...layers.filter(Boolean));
}

export interface NameValue {
  name?: string;
  value?: string;
}

/** Name/value lists (definition first, overrides later) to one env object; later entries win. */
export function envFromPairs(...lists: (readonly NameValue[] | undefined)[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const list of lists) for (const { name, value } of list ?? []) if (name) env[name] = value ?? '';
  return env;
}

/** The resource name at the end of a Batch ARN (`…:job-queue/NAME` → NAME); a bare name stays as is. */
export function nameFromArn(arnOrName: string): string {
  return arnOrName.startsWith('arn:')
    ? ((arnOrName.split('/')[1] ?? arnOrName).split(':')[0] ?? arnOrName)
    : arnOrName;
}
