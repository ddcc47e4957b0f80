// template.yaml's job definitions follow images/matrix.json: one per image and architecture, named and tagged as the
// dispatcher's JOB_DEFINITION_PREFIX rule says (the dispatcher derives the same names), all in the outputs; the generated blocks are what `npm run template` renders.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readConfig } from '../../functions/dispatcher/config.js';
import { jobDefinitionFor } from '../../functions/dispatcher/job-definition-names.js';
import { jobDefinitions, loadTemplate, resource } from '../support/cfn-yaml.js';

const root = new URL('../../', import.meta.url).pathname;
const SCRIPT = join(root, 'scripts/template-matrix.mjs');
const template = loadTemplate();
const matrixText = readFileSync(join(root, 'images/matrix.json'), 'utf8');
const matrix = JSON.parse(matrixText) as {
  arches: string[];
  images: { flavour: string; runtime: string; default?: boolean }[];
};
const defs = jobDefinitions(template);
const work = mkdtempSync(join(tmpdir(), 'template-matrix-'));
after(() => rmSync(work, { recursive: true, force: true }));

const check = (...args: string[]) =>
  spawnSync(process.execPath, [SCRIPT, '--check', ...args], { cwd: root, encoding: 'utf8' });

/** The definition whose JobDefinitionName is `${AWS::StackName}-<suffix>`. */
function bySuffix(suffix: string) {
  const found = Object.entries(defs).filter(
    ([, d]) => JSON.stringify(d.name) === JSON.stringify({ 'Fn::Sub': `\${AWS::StackName}-${suffix}` }),
  );
  assert.equal(found.length, 1, `one job definition named <stack>-${suffix}`);
  return found[0] as [string, (typeof defs)[string]];
}

// The names docs/deploy.md promises (x86_64; arm64 adds -arm64), written out rather than computed the way the
// generator computes them.
const EXPECTED_SUFFIX: Record<string, string> = {
  'lambda:python3.11': 'lambda-python3-11',
  'lambda:python3.12': 'lambda',
  'lambda:python3.13': 'lambda-python3-13',
  'lambda:python3.14': 'lambda-python3-14',
  'lambda:nodejs22.x': 'lambda-nodejs22-x',
  'lambda:nodejs24.x': 'lambda-nodejs24-x',
  'lambda:java8.al2': 'lambda-java8-al2',
  'lambda:java8.al2023': 'lambda-java8-al2023',
  'lambda:java11': 'lambda-java11',
  'lambda:java11.al2023': 'lambda-java11-al2023',
  'lambda:java17': 'lambda-java17',
  'lambda:java17.al2023': 'lambda-java17-al2023',
  'lambda:java21': 'lambda-java21',
  'lambda:java25': 'lambda-java25',
  'lambda:ruby3.3': 'lambda-ruby3-3',
  'lambda:ruby3.4': 'lambda-ruby3-4',
  'lambda:ruby4.0': 'lambda-ruby4-0',
  'lambda:dotnet10': 'lambda-dotnet10',
  'lambda:provided.al2023': 'lambda-provided-al2023',
  'geolambda:python3.12': 'geolambda',
  'geolambda:python3.13': 'geolambda-python3-13',
};

/** `!Sub` text of a JSON map → its object, values as written (`${LogicalId}`, `${AWS::StackName}-name`). */
function subMap(value: unknown): Record<string, string> {
  const text = (value as { 'Fn::Sub': string })['Fn::Sub'];
  assert.equal(typeof text, 'string', 'a !Sub string');
  return JSON.parse(text) as Record<string, string>;
}

const logicalIdOf = (v: string) => /^\$\{(\w+)\}$/.exec(v)?.[1] ?? `not a reference: ${v}`;

function dispatcherEnv(): Record<string, unknown> {
  const environment = resource(template, 'Dispatcher').Properties?.Environment as
    | { Variables: Record<string, unknown> }
    | undefined;
  assert.ok(environment, 'the dispatcher has an Environment');
  return environment.Variables;
}

test('the committed template.yaml is what scripts/template-matrix.mjs renders from images/matrix.json', () => {
  const r = check();
  assert.equal(r.status, 0, r.stderr);
});

test('the check fails when a generated block was edited by hand or the matrix changed', () => {
  const edited = join(work, 'edited.yaml');
  writeFileSync(
    edited,
    readFileSync(join(root, 'template.yaml'), 'utf8').replace(
      `\${AWS::StackName}-lambda-python3-13"`,
      `\${AWS::StackName}-lambda-py313"`,
    ),
  );
  const r1 = check('--template', edited);
  assert.equal(r1.status, 1);
  assert.match(r1.stderr, /run npm run template/);

  const grown = join(work, 'matrix.json');
  const m = JSON.parse(matrixText) as { images: Record<string, unknown>[] };
  m.images.push({ flavour: 'lambda', repository: 'run-lambda', runtime: 'python3.15', base: 'x' });
  writeFileSync(grown, JSON.stringify(m));
  const r2 = check('--matrix', grown);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /run npm run template/);
});

test('the matrix builds both architectures, and every image of it has a name here', () => {
  assert.deepEqual(matrix.arches, ['x86_64', 'arm64']);
  assert.deepEqual(
    matrix.images.map((i) => `${i.flavour}:${i.runtime}`).sort(),
    Object.keys(EXPECTED_SUFFIX).sort(),
  );
});

/** The RuntimePlatform a definition declares on Fargate (undefined when it declares none). */
function fargatePlatform(logicalId: string): unknown {
  const container = resource(template, logicalId).Properties?.ContainerProperties as Record<string, unknown>;
  const platform = container.RuntimePlatform as { 'Fn::If': [string, unknown, unknown] } | undefined;
  if (!platform) return undefined;
  assert.equal(platform['Fn::If'][0], 'IsFargate', 'the platform is set on Fargate only');
  assert.deepEqual(platform['Fn::If'][2], { Ref: 'AWS::NoValue' }, 'and left out on EC2');
  return platform['Fn::If'][1];
}

for (const image of matrix.images) {
  const key = `${image.flavour}:${image.runtime}`;
  const repository = image.flavour === 'geolambda' ? 'GeoLambdaImageRepository' : 'LambdaImageRepository';
  test(`${key}: x86_64 definition <stack>-${EXPECTED_SUFFIX[key]} on <version>-${image.runtime}-x86_64, arm64 one on -arm64`, () => {
    const suffix = EXPECTED_SUFFIX[key];
    assert.ok(suffix, `no expected name for ${key}: add it to this test`);
    const [x86Id, x86] = bySuffix(suffix);
    assert.deepEqual(x86.image, { 'Fn::Sub': `\${${repository}}:\${ImageVersion}-${image.runtime}-x86_64` });
    assert.deepEqual(x86.command, ['run', 'Ref::lambda_function', 'Ref::url', 'Ref::url_out']);
    assert.equal(fargatePlatform(x86Id), undefined, 'x86_64 is what Fargate runs when none is declared');
    const [armId, arm] = bySuffix(`${suffix}-arm64`);
    assert.deepEqual(arm.image, { 'Fn::Sub': `\${${repository}}:\${ImageVersion}-${image.runtime}-arm64` });
    assert.deepEqual(arm.command, x86.command);
    assert.deepEqual(arm.retryStrategy, x86.retryStrategy);
    assert.deepEqual(fargatePlatform(armId), { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
  });
}

test('the python3.12 images keep the definitions the dispatcher already had (JOB_DEFINITION_LAMBDA/GEOLAMBDA)', () => {
  const env = dispatcherEnv();
  assert.deepEqual(env.JOB_DEFINITION_LAMBDA, { Ref: bySuffix('lambda')[0] });
  assert.deepEqual(env.JOB_DEFINITION_GEOLAMBDA, { Ref: bySuffix('geolambda')[0] });
});

test("JOB_DEFINITION_RUNTIMES lists every <flavour>:<runtime> of the matrix, and the dispatcher's names for them are the template's on both architectures", () => {
  const listed = String(dispatcherEnv().JOB_DEFINITION_RUNTIMES).split(/\s+/);
  const keys = matrix.images.map((i) => `${i.flavour}:${i.runtime}`);
  assert.deepEqual([...listed].sort(), [...keys].sort());
  const config = readConfig({ JOB_DEFINITION_PREFIX: 'STACK', JOB_DEFINITION_RUNTIMES: listed.join(' ') });
  for (const key of keys) {
    const [flavour, runtime] = key.split(':') as ['lambda' | 'geolambda', string];
    for (const arch of matrix.arches) {
      const suffix = `${EXPECTED_SUFFIX[key]}${arch === 'arm64' ? '-arm64' : ''}`;
      bySuffix(suffix); // the template has it
      assert.equal(jobDefinitionFor(config, flavour, runtime, arch), `STACK-${suffix}`, `${key} on ${arch}`);
    }
  }
  assert.equal(jobDefinitionFor(config, 'lambda', 'python3.9', 'x86_64'), undefined, 'no image, no name');
});

test('the outputs map every image to its definition: JobDefinitions the x86_64 ones, JobDefinitionsArm64 the arm64 ones', () => {
  const x86 = subMap(template.Outputs?.JobDefinitions?.Value);
  const arm = subMap(template.Outputs?.JobDefinitionsArm64?.Value);
  const keys = matrix.images.map((i) => `${i.flavour}:${i.runtime}`);
  assert.deepEqual(Object.keys(x86).sort(), [...keys].sort());
  assert.deepEqual(Object.keys(arm).sort(), keys.map((k) => `${k}:arm64`).sort());
  for (const [key, v] of Object.entries(x86))
    assert.equal(logicalIdOf(v), bySuffix(EXPECTED_SUFFIX[key] ?? '?')[0], key);
  for (const [key, v] of Object.entries(arm))
    assert.equal(logicalIdOf(v), bySuffix(`${EXPECTED_SUFFIX[key.replace(/:arm64$/, '')]}-arm64`)[0], key);
});

test('the dispatcher is told the prefix the definitions are named under: the stack name', () => {
  assert.deepEqual(dispatcherEnv().JOB_DEFINITION_PREFIX, { Ref: 'AWS::StackName' });
  for (const d of Object.values(defs))
    assert.match(
      (d.name as { 'Fn::Sub': string })['Fn::Sub'],
      /^\$\{AWS::StackName\}-(geo)?lambda(-[a-z0-9-]+)?$/,
    );
});
