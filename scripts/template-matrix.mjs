// Renders the parts of template.yaml that follow images/matrix.json: one job definition per image, the
// dispatcher's JOB_DEFINITIONS map, the dispatcher's and the state machine's SubmitJob resources, and the
// JobDefinitions output.
// `npm run template` rewrites the marked blocks in place; `--check` only says whether they are current.
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);

/** Logical-id prefix of each flavour; a new flavour in the matrix needs its entry here (and its parameter). */
export const FLAVOUR_IDS = { lambda: 'Lambda', geolambda: 'GeoLambda' };

/** The retry rules every definition carries (functions/dispatcher/job.ts RETRY_ON_EXIT sends the same list). */
const RETRY_RULES = [
  '{ OnStatusReason: "Host EC2*", Action: RETRY }',
  '{ OnStatusReason: "Your Spot Task was interrupted*", Action: RETRY }',
  '{ OnExitCode: "4", Action: RETRY }',
  '{ OnExitCode: "*", Action: EXIT }',
];

const pascal = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * What one matrix entry becomes: its logical id, its definition name (after `<stack>-`), its dispatcher key.
 * The python3.12 ("default") images keep the names they had before the matrix: LambdaJobDefinition, `<stack>-lambda`.
 */
export function definitionOf(entry) {
  const prefix = FLAVOUR_IDS[entry.flavour];
  if (!prefix)
    throw new Error(`images/matrix.json: flavour ${entry.flavour} has no logical-id prefix in FLAVOUR_IDS`);
  // python3.13 → Python313, nodejs24.x → Nodejs24X, provided.al2023 → ProvidedAl2023
  const runtimeId = entry.runtime.split('.').map(pascal).join('');
  return {
    ...entry,
    logicalId: entry.default ? `${prefix}JobDefinition` : `${prefix}${runtimeId}JobDefinition`,
    nameSuffix: entry.default ? entry.flavour : `${entry.flavour}-${entry.runtime.replaceAll('.', '-')}`,
    key: `${entry.flavour}:${entry.runtime}`,
    imageParameter: `${prefix}ImageRepository`,
  };
}

export function definitions(matrix) {
  const defs = matrix.images.map(definitionOf);
  const keys = new Set(defs.map((d) => d.key));
  if (keys.size !== defs.length) throw new Error('images/matrix.json lists a flavour and runtime twice');
  for (const flavour of new Set(defs.map((d) => d.flavour))) {
    const defaults = defs.filter((d) => d.flavour === flavour && d.default);
    if (defaults.length !== 1)
      throw new Error(`images/matrix.json: flavour ${flavour} needs exactly one default image`);
  }
  return defs;
}

function jobDefinition(d) {
  return [
    `${d.logicalId}:`,
    '  Type: AWS::Batch::JobDefinition',
    '  Properties:',
    `    JobDefinitionName: !Sub "\${AWS::StackName}-${d.nameSuffix}"`,
    '    Type: container',
    '    PlatformCapabilities: [!If [IsFargate, FARGATE, EC2]]',
    '    PropagateTags: true',
    '    Parameters: { lambda_function: "", url: "", url_out: "" }',
    '    ContainerProperties:',
    `      Image: !Sub "\${${d.imageParameter}}:\${ImageVersion}-${d.runtime}"`,
    '      Command: [run, Ref::lambda_function, Ref::url, Ref::url_out]',
    '      JobRoleArn: !GetAtt JobRole.Arn',
    '      ExecutionRoleArn: !GetAtt JobExecutionRole.Arn',
    '      ResourceRequirements:',
    '        - { Type: VCPU, Value: !Ref JobVcpus }',
    '        - { Type: MEMORY, Value: !Ref JobMemory }',
    '      Environment:',
    '        - { Name: RUN_LAMBDA_LOG_LEVEL, Value: !Ref LogLevel }',
    // The runner keeps the handler's deadline within the attempt's duration (lib/job-plan.ts RUN_LAMBDA_JOB_TIMEOUT);
    // a request's own `timeout` overrides both.
    '        - { Name: RUN_LAMBDA_JOB_TIMEOUT, Value: !Ref JobTimeoutSeconds }',
    '      NetworkConfiguration: !If [IsFargate, { AssignPublicIp: !Ref AssignPublicIp }, !Ref AWS::NoValue]',
    '      FargatePlatformConfiguration: !If [IsFargate, { PlatformVersion: LATEST }, !Ref AWS::NoValue]',
    '    Timeout:',
    '      AttemptDurationSeconds: !Ref JobTimeoutSeconds',
    '    RetryStrategy:',
    '      Attempts: !Ref JobAttempts',
    '      EvaluateOnExit:',
    ...RETRY_RULES.map((r) => `        - ${r}`),
    '',
  ];
}

// A folded scalar: its line breaks become spaces, which JSON allows between tokens.
function jsonMap(defs) {
  return defs.map((d, i) => {
    const open = i === 0 ? '{' : '';
    const close = i === defs.length - 1 ? '}' : ',';
    return `  ${open}"${d.key}": "\${${d.logicalId}}"${close}`;
  });
}

/** SubmitJob resources for every definition, by name (any revision): the dispatcher's and the state machine's. */
function submitResources(defs) {
  return defs.flatMap((d) => {
    const arn = `arn:\${AWS::Partition}:batch:\${AWS::Region}:\${AWS::AccountId}:job-definition/\${AWS::StackName}-${d.nameSuffix}`;
    return [`- !Sub "${arn}"`, `- !Sub "${arn}:*"`];
  });
}

/** The text of each generated block, by name, as lines without the block's indentation. */
export function blocks(matrix) {
  const defs = definitions(matrix);
  return {
    'job-definitions': defs.flatMap(jobDefinition).slice(0, -1),
    'dispatcher-job-definitions': ['JOB_DEFINITIONS: !Sub >-', ...jsonMap(defs)],
    'submit-job-definitions': submitResources(defs),
    // The state machine submits the dispatcher's plan, so it may submit to the same definitions.
    'state-machine-job-definitions': submitResources(defs),
    'job-definitions-output': [
      'JobDefinitions:',
      '  Description: >-',
      '    JSON object from "<flavour>:<runtime>" (e.g. "lambda:python3.13") to the ARN of that image\'s job',
      '    definition, as the dispatcher reads it from JOB_DEFINITIONS.',
      '  Value: !Sub >-',
      ...jsonMap(defs).map((l) => `  ${l}`),
      `  Export: { Name: !Sub "\${AWS::StackName}-JobDefinitions" }`,
    ],
  };
}

const BEGIN = /^( *)# >>> generated: ([\w-]+)/;
const END = /^ *# <<< generated: ([\w-]+)/;

/** `text` with every marked block replaced by its rendering; throws on an unknown or unclosed block. */
export function render(text, matrix) {
  const wanted = blocks(matrix);
  const seen = new Set();
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const begin = BEGIN.exec(line);
    out.push(line);
    if (!begin) continue;
    const [, indent, name] = begin;
    const body = wanted[name];
    if (!body) throw new Error(`template.yaml: unknown generated block ${name}`);
    if (seen.has(name)) throw new Error(`template.yaml: generated block ${name} appears twice`);
    seen.add(name);
    let j = i + 1;
    while (j < lines.length && END.exec(lines[j])?.[1] !== name) j++;
    if (j === lines.length)
      throw new Error(`template.yaml: generated block ${name} has no "# <<< generated: ${name}"`);
    out.push(...body.map((l) => (l === '' ? '' : `${indent}${l}`)), lines[j]);
    i = j;
  }
  const missing = Object.keys(wanted).filter((n) => !seen.has(n));
  if (missing.length > 0) throw new Error(`template.yaml has no generated block ${missing.join(', ')}`);
  return out.join('\n');
}

const option = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : new URL(process.argv[i + 1] ?? '', `file://${process.cwd()}/`);
};

if (import.meta.url === `file://${process.argv[1]}`) {
  // --template and --matrix let the tests render copies.
  const file = option('--template', new URL('template.yaml', root));
  const matrix = JSON.parse(readFileSync(option('--matrix', new URL('images/matrix.json', root)), 'utf8'));
  const current = readFileSync(file, 'utf8');
  let next;
  try {
    next = render(current, matrix);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('template.yaml is not what images/matrix.json gives: run npm run template');
      process.exit(1);
    }
  } else if (next !== current) {
    writeFileSync(file, next);
    console.error('template.yaml: generated blocks rewritten from images/matrix.json');
  }
}
