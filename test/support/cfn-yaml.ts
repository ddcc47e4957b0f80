// Reads CloudFormation/SAM YAML (with !Ref, !Sub, !GetAtt, !If… short forms) into the long JSON form, for tests.
import { readFileSync } from 'node:fs';
import { type CollectionTag, parse, type ScalarTag, type Tags, type YAMLMap, type YAMLSeq } from 'yaml';

/** Short-form tags and the long-form key each becomes (`!Ref x` → `{ Ref: x }`, `!If [...]` → `{ 'Fn::If': [...] }`). */
const intrinsics: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  Sub: 'Fn::Sub',
  GetAtt: 'Fn::GetAtt',
  If: 'Fn::If',
  Equals: 'Fn::Equals',
  Not: 'Fn::Not',
  And: 'Fn::And',
  Or: 'Fn::Or',
  Join: 'Fn::Join',
  Split: 'Fn::Split',
  Select: 'Fn::Select',
  FindInMap: 'Fn::FindInMap',
  Base64: 'Fn::Base64',
  Cidr: 'Fn::Cidr',
  GetAZs: 'Fn::GetAZs',
  ImportValue: 'Fn::ImportValue',
  Length: 'Fn::Length',
  ToJsonString: 'Fn::ToJsonString',
  Contains: 'Fn::Contains',
  EachMemberEquals: 'Fn::EachMemberEquals',
  EachMemberIn: 'Fn::EachMemberIn',
  RefAll: 'Fn::RefAll',
  ValueOf: 'Fn::ValueOf',
  ValueOfAll: 'Fn::ValueOfAll',
};

function scalarValue(name: string, key: string, value: string): unknown {
  // `!GetAtt Res.Attr` is the one short form whose scalar is split (at the first dot).
  if (name === 'GetAtt') {
    const dot = value.indexOf('.');
    return { [key]: dot === -1 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [key]: value };
}

/** yaml custom tags for every CloudFormation short form, in scalar, sequence and mapping shape. */
export const cfnTags: Tags = Object.entries(intrinsics).flatMap(
  ([name, key]): (ScalarTag | CollectionTag)[] => [
    { tag: `!${name}`, resolve: (value: string) => scalarValue(name, key, value) },
    { tag: `!${name}`, collection: 'seq', resolve: (seq) => ({ [key]: (seq as YAMLSeq.Parsed).toJSON() }) },
    { tag: `!${name}`, collection: 'map', resolve: (map) => ({ [key]: (map as YAMLMap.Parsed).toJSON() }) },
  ],
);

/** A template as far as the tests look into it; values stay `unknown` until a test narrows them. */
export interface CfnTemplate {
  Transform?: string | string[];
  Parameters?: Record<string, { Type: string; Default?: unknown; [k: string]: unknown }>;
  Conditions?: Record<string, unknown>;
  Rules?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string; [k: string]: unknown }>;
}

export interface CfnResource {
  Type: string;
  Condition?: string;
  Metadata?: Record<string, unknown>;
  Properties?: Record<string, unknown>;
  [k: string]: unknown;
}

/** An IAM policy statement as the template writes it (after parsing: intrinsics in long form, hence `unknown`). */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

/** A statement's actions as a list (Action may be one string). */
export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Parses CloudFormation YAML text; short forms come back in long form. */
export function parseCfnYaml(text: string): unknown {
  return parse(text, { customTags: cfnTags, maxAliasCount: -1 });
}

/** Reads a template file (default: the repository's template.yaml). */
export function loadTemplate(
  file: string | URL = new URL('../../template.yaml', import.meta.url),
): CfnTemplate {
  const doc = parseCfnYaml(readFileSync(file, 'utf8')) as CfnTemplate;
  if (!doc || typeof doc !== 'object' || !doc.Resources) throw new Error(`${String(file)} has no Resources`);
  return doc;
}

/** The resource `id`, failing loudly (with the ids there are) when it is missing or of another type. */
export function resource(template: CfnTemplate, id: string, type?: string): CfnResource {
  const r = template.Resources[id];
  if (!r)
    throw new Error(`template has no resource ${id} (has ${Object.keys(template.Resources).join(', ')})`);
  if (type && r.Type !== type) throw new Error(`resource ${id} is ${r.Type}, not ${type}`);
  return r;
}

/** What a job definition means to a runner of jobs: its command, parameter defaults, retry strategy, timeout. */
export interface JobDefinitionSpec {
  name: unknown;
  command: string[];
  parameters: Record<string, string>;
  retryStrategy: {
    Attempts: unknown;
    EvaluateOnExit: { Action: string; OnExitCode?: string; OnReason?: string; OnStatusReason?: string }[];
  };
  timeoutSeconds: unknown;
  image: unknown;
}

/** Every AWS::Batch::JobDefinition of the template (one per image of images/matrix.json), by logical id. */
export function jobDefinitions(template: CfnTemplate = loadTemplate()): Record<string, JobDefinitionSpec> {
  const out: Record<string, JobDefinitionSpec> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Batch::JobDefinition') continue;
    const p = r.Properties ?? {};
    const container = (p.ContainerProperties ?? {}) as Record<string, unknown>;
    const timeout = p.Timeout as { AttemptDurationSeconds?: unknown } | undefined;
    out[id] = {
      name: p.JobDefinitionName,
      command: container.Command as string[],
      parameters: (p.Parameters ?? {}) as Record<string, string>,
      retryStrategy: p.RetryStrategy as JobDefinitionSpec['retryStrategy'],
      timeoutSeconds: timeout?.AttemptDurationSeconds,
      image: container.Image,
    };
  }
  return out;
}

/**
 * The command Batch would run: every `Ref::name` replaced by the submitted parameter, else the job definition's
 * default; a placeholder with neither stays as it is (as Batch leaves it).
 */
export function substituteCommand(
  command: readonly string[],
  defaults: Record<string, string>,
  submitted: Record<string, string>,
): string[] {
  const values = { ...defaults, ...submitted };
  return command.map((arg) => {
    if (!arg.startsWith('Ref::')) return arg;
    const value = values[arg.slice('Ref::'.length)];
    return value === undefined ? arg : value;
  });
}
