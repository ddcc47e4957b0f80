// Evaluates a template's conditions and intrinsic functions the way CloudFormation would, for a deploy onto moto.
import type { CfnTemplate } from '../support/cfn-yaml.js';

/** What CloudFormation knows when it resolves a value: parameters, pseudo parameters, created resources. */
export interface StackContext {
  stackName: string;
  region: string;
  accountId: string;
  /** parameter values as CloudFormation passes them: strings, lists for CommaDelimitedList */
  parameters: Record<string, string | string[]>;
  /** condition name → value (from `evaluateConditions`) */
  conditions: Record<string, boolean>;
  /** logical id → what `Ref` returns for a resource created so far */
  refs: Record<string, string>;
  /** `LogicalId.Attribute` → what `Fn::GetAtt` returns */
  attrs: Record<string, string>;
}

/** `AWS::NoValue`: the property it stands for is left out (dropped by `resolveValue`). */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export class UnresolvableError extends Error {
  override name = 'UnresolvableError';
}

/** The template's defaults, overridden by `given`; lists split on commas as CloudFormation splits them. */
export function parameterValues(
  template: CfnTemplate,
  given: Record<string, string | string[]>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, decl] of Object.entries(template.Parameters ?? {})) {
    const value = given[name] ?? (decl.Default === undefined ? undefined : String(decl.Default));
    if (value === undefined) throw new UnresolvableError(`parameter ${name} has no default and no value`);
    out[name] =
      decl.Type === 'CommaDelimitedList' || decl.Type.startsWith('List<')
        ? Array.isArray(value)
          ? value
          : value.split(',')
        : String(value);
  }
  return out;
}

function pseudo(ctx: StackContext, name: string): string | string[] | typeof NO_VALUE | undefined {
  switch (name) {
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::NoValue':
      return NO_VALUE;
    default:
      return undefined;
  }
}

function ref(ctx: StackContext, name: string): string | string[] | typeof NO_VALUE {
  const value = pseudo(ctx, name) ?? ctx.parameters[name] ?? ctx.refs[name];
  if (value === undefined) throw new UnresolvableError(`Ref ${name}: no such parameter or created resource`);
  return value;
}

function getAtt(ctx: StackContext, id: string, attr: string): string {
  const value = ctx.attrs[`${id}.${attr}`];
  if (value === undefined) throw new UnresolvableError(`GetAtt ${id}.${attr}: not created`);
  return value;
}

function sub(ctx: StackContext, text: string, vars: Record<string, unknown>): string {
  return text.replace(/\$\{(!?)([^}]+)\}/g, (_, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    if (name in vars) return String(vars[name]);
    const dot = name.indexOf('.');
    if (dot !== -1 && !name.startsWith('AWS::')) return getAtt(ctx, name.slice(0, dot), name.slice(dot + 1));
    return String(ref(ctx, name));
  });
}

/** Evaluates one condition expression (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`). */
export function condition(ctx: StackContext, expr: unknown, all: Record<string, unknown> = {}): boolean {
  const [fn, arg] = Object.entries(expr as Record<string, unknown>)[0] ?? [];
  const args = arg as unknown[];
  switch (fn) {
    case 'Fn::Equals':
      return JSON.stringify(resolveValue(ctx, args[0])) === JSON.stringify(resolveValue(ctx, args[1]));
    case 'Fn::Not':
      return !condition(ctx, args[0], all);
    case 'Fn::And':
      return args.every((a) => condition(ctx, a, all));
    case 'Fn::Or':
      return args.some((a) => condition(ctx, a, all));
    case 'Condition': {
      const name = arg as string;
      if (!(name in ctx.conditions)) ctx.conditions[name] = condition(ctx, all[name], all);
      return ctx.conditions[name] as boolean;
    }
    default:
      throw new UnresolvableError(`unsupported condition function ${String(fn)}`);
  }
}

/** Every condition of the template, in dependency order (a `Condition` reference evaluates its target first). */
export function evaluateConditions(template: CfnTemplate, ctx: StackContext): Record<string, boolean> {
  const all = template.Conditions ?? {};
  for (const name of Object.keys(all)) condition(ctx, { Condition: name }, all);
  return ctx.conditions;
}

/** Resolves every intrinsic in `value`; `AWS::NoValue` entries disappear from objects and arrays. */
export function resolveValue(ctx: StackContext, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveValue(ctx, v)).filter((v) => v !== NO_VALUE);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only && (only[0] === 'Ref' || only[0].startsWith('Fn::')))
    return intrinsic(ctx, only[0], only[1]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const r = resolveValue(ctx, v);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

function intrinsic(ctx: StackContext, fn: string, arg: unknown): unknown {
  const args = arg as unknown[];
  switch (fn) {
    case 'Ref':
      return ref(ctx, arg as string);
    case 'Fn::GetAtt':
      return getAtt(ctx, args[0] as string, args[1] as string);
    case 'Fn::Sub':
      return typeof arg === 'string'
        ? sub(ctx, arg, {})
        : sub(ctx, args[0] as string, resolveValue(ctx, args[1]) as Record<string, unknown>);
    case 'Fn::If': {
      const name = args[0] as string;
      if (!(name in ctx.conditions)) throw new UnresolvableError(`Fn::If: unknown condition ${name}`);
      return resolveValue(ctx, ctx.conditions[name] ? args[1] : args[2]);
    }
    case 'Fn::Join':
      return (resolveValue(ctx, args[1]) as unknown[]).join(args[0] as string);
    case 'Fn::Split':
      return String(resolveValue(ctx, args[1])).split(args[0] as string);
    case 'Fn::Select':
      return (resolveValue(ctx, args[1]) as unknown[])[Number(resolveValue(ctx, args[0]))];
    default:
      throw new UnresolvableError(`unsupported intrinsic ${fn}`);
  }
}
