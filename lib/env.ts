// Typed readers for environment configuration: one place reads process.env, each value with an explicit default.

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A string variable; `undefined` when unset or empty and no default is given. */
export function envString(env: Env, name: string): string | undefined;
export function envString(env: Env, name: string, fallback: string): string;
export function envString(env: Env, name: string, fallback?: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

/** A required string variable: throws `ConfigError` "NAME is required" when unset or empty. */
export function envRequired(env: Env, name: string): string {
  const v = envString(env, name);
  if (v === undefined) throw new ConfigError(`${name} is required`);
  return v;
}

/** A non-negative integer variable. */
export function envInt(env: Env, name: string, fallback: number): number {
  const v = envString(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v.trim()))
    throw new ConfigError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v.trim());
}

/** A boolean variable: 1/true/yes/on or 0/false/no/off. */
export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const v = envString(env, name);
  if (v === undefined) return fallback;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(v)}`);
}

/** A comma- or whitespace-separated list variable. */
export function envList(env: Env, name: string): string[] {
  const v = envString(env, name);
  return v === undefined ? [] : v.split(/[\s,]+/).filter(Boolean);
}
