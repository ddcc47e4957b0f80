// Renders the parts of template.yaml that follow images/matrix.json: one job definition per image and architecture,
// the dispatcher's JOB_DEFINITION_RUNTIMES (the images whose definitions it names from JOB_DEFINITION_PREFIX), the
// dispatcher's and the state machine's SubmitJob resources, and the JobDefinitions and JobDefinitionsArm64 outputs.
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
 * What one matrix entry becomes on one architecture: its logical id, its definition name (after `<stack>-`), its
 * dispatcher key, its image tag. The names follow the dispatcher's JOB_DEFINITION_PREFIX rule: `<flavour>` for the
 * python3.12 ("default") images, which keep the names they had before the matrix (LambdaJobDefinition,
 * `<stack>-lambda`), `<flavour>-<runtime with dots as dashes>` for the others, and `-arm64` after either for arm64.
 */
export function definitionOf(entry, arch = 'x86_64') {
  const prefix = FLAVOUR_IDS[entry.flavour];
  if (!prefix)
    throw new Error(`images/matrix.json: flavour ${entry.flavour} has no logical-id prefix in FLAVOUR_IDS`);
  // python3.13 → Python313, nodejs24.x → Nodejs24X, provided.al2023 → ProvidedAl2023
  const runtimeId = entry.default ? '' : entry.runtime.split('.').map(pascal).join('');
  const arm = arch === 'arm64';
  const name = entry.default ? entry.flavour : `${entry.flavour}-${entry.runtime.replaceAll('.', '-')}`;
  return {
    ...entry,
    arch,
    logicalId: `${prefix}${runtimeId}${arm ? 'Arm64' : ''}JobDefinition`,
    nameSuffix: arm ? `${name}-arm64` : name,
    key: `${entry.flavour}:${entry.runtime}${arm ? ':arm64' : ''}`,
    imageParameter: `${prefix}ImageRepository`,
  };
}

/** Every job definition of the matrix: each image on each architecture of `arches`, x86_64 ones first. */
export function definitions(matrix) {
  const defs = matrix.arches.flatMap((arch) => matrix.images.map((e) => definitionOf(e, arch)));
  const keys = new Set(defs.map((d) => d.key));
  if (keys.size !== defs.length) throw new Error('images/matrix.json lists a flavour and runtime twice');
  for (const flavour of new Set(defs.map((d) => d.flavour))) {
    const defaults = matrix.images.filter((e) => e.flavour === flavour && e.default);
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
    `      Image: !Sub "\${${d.imageParameter}}:\${ImageVersion}-${d.runtime}-${d.arch}"`,
    '      Command: [run, Ref::lambda_function, Ref::url, Ref::url_out]',
    // Fargate runs each job on the architecture its definition declares (X86_64 when none does); EC2 jobs run on the
    // instances of the queue's compute environment, the arm64 queue's being Graviton ones.
    ...(d.arch === 'arm64'
      ? [
          '      RuntimePlatform: !If',
          '        - IsFargate',
          '        - { CpuArchitecture: ARM64, OperatingSystemFamily: LINUX }',
          '        - !Ref AWS::NoValue',
        ]
      : []),
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
    // The function's own execution role, assumed by the job role (the runner's --assume-function-role).
    '        - { Name: RUN_LAMBDA_ASSUME_FUNCTION_ROLE, Value: !Ref AssumeFunctionRole }',
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

// A folded scalar: its line breaks become spaces, which JSON allows between tokens. `value` is each entry's !Sub text.
function jsonMap(defs, value = (d) => `\${${d.logicalId}}`) {
  return defs.map((d, i) => {
    const open = i === 0 ? '{' : '';
    const close = i === defs.length - 1 ? '}' : ',';
    return `  ${open}"${d.key}": "${value(d)}"${close}`;
  });
}

/**
 * The dispatcher's JOB_DEFINITION_RUNTIMES: every `<flavour>:<runtime>` of the matrix, whose definitions on both
 * architectures it names from JOB_DEFINITION_PREFIX as definitionOf does (functions/dispatcher/job-definition-names.ts),
 * so the template writes no map of names: 21 names as a JSON map would take a third of Lambda's 4 KB of environment.
 */
function dispatcherRuntimes(x86) {
  return ['JOB_DEFINITION_RUNTIMES: >-', ...x86.map((d) => `  ${d.flavour}:${d.runtime}`)];
}

/**
 * SubmitJob resources for every definition, the dispatcher's and the state machine's: per flavour, its default's name
 * (`<stack>-lambda`, any revision) and the names under it (`<stack>-lambda-*`: the other runtimes and the arm64
 * definitions). One ARN per definition and revision pattern would be about 90 ARNs, which IAM's 10,240 characters for a
 * role's inline policies do not hold; the names under `<stack>-<flavour>-` are this stack's definitions alone, and the
 * image functions' `<stack>-fn-` ones stay outside them.
 */
function submitResources(defs) {
  return [...new Set(defs.map((d) => d.flavour))].flatMap((flavour) => {
    const arn = `arn:\${AWS::Partition}:batch:\${AWS::Region}:\${AWS::AccountId}:job-definition/\${AWS::StackName}-${flavour}`;
    return [`- !Sub "${arn}"`, `- !Sub "${arn}:*"`, `- !Sub "${arn}-*"`];
  });
}

/** The text of each generated block, by name, as lines without the block's indentation. */
export function blocks(matrix) {
  const defs = definitions(matrix);
  const x86 = defs.filter((d) => d.arch === 'x86_64');
  const arm = defs.filter((d) => d.arch === 'arm64');
  return {
    'job-definitions': defs.flatMap(jobDefinition).slice(0, -1),
    'dispatcher-job-definitions': dispatcherRuntimes(x86),
    'submit-job-definitions': submitResources(defs),
    // The state machine submits the dispatcher's plan, so it may submit to the same definitions.
    'state-machine-job-definitions': submitResources(defs),
    'job-definitions-output': [
      'JobDefinitions:',
      '  Description: >-',
      '    JSON object from "<flavour>:<runtime>" (e.g. "lambda:python3.13") to the ARN of that image\'s x86_64',
      '    job definition (the dispatcher names the same ones from JOB_DEFINITION_PREFIX).',
      '  Value: !Sub >-',
      ...jsonMap(x86).map((l) => `  ${l}`),
      `  Export: { Name: !Sub "\${AWS::StackName}-JobDefinitions" }`,
      'JobDefinitionsArm64:',
      '  Description: >-',
      '    JSON object from "<flavour>:<runtime>:arm64" (e.g. "lambda:python3.13:arm64") to the ARN of that image\'s',
      '    arm64 job definition (<stack>-<flavour>[-<runtime>]-arm64).',
      '  Value: !Sub >-',
      ...jsonMap(arm).map((l) => `  ${l}`),
      `  Export: { Name: !Sub "\${AWS::StackName}-JobDefinitionsArm64" }`,
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
