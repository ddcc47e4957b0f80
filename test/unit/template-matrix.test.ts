// template.yaml's job definitions follow images/matrix.json: one per image, named and tagged as docs/deploy.md "The job definitions" says,
// all in the dispatcher's JOB_DEFINITIONS map; the generated blocks are what `npm run template` renders.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { jobDefinitions, loadTemplate, resource } from '../support/cfn-yaml.js';

const root = new URL('../../', import.meta.url).pathname;
const SCRIPT = join(root, 'scripts/template-matrix.mjs');
const template = loadTemplate();
const matrixText = readFileSync(join(root, 'images/matrix.json'), 'utf8');
const matrix = JSON.parse(matrixText) as {
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

// The names docs/deploy.md promises, written out rather than computed the way the generator computes them.
const EXPECTED_SUFFIX: Record<string, string> = {
  'lambda:python3.12': 'lambda',
  'lambda:python3.13': 'lambda-python3-13',
  'lambda:python3.14': 'lambda-python3-14',
  'lambda:nodejs22.x': 'lambda-nodejs22-x',
  'lambda:nodejs24.x': 'lambda-nodejs24-x',
  'lambda:provided.al2023': 'lambda-provided-al2023',
  'geolambda:python3.12': 'geolambda',
  'geolambda:python3.13': 'geolambda-python3-13',
};

/** `!Sub` text of a JSON map with `${LogicalId}` values → { key: LogicalId }. */
function subMap(value: unknown): Record<string, string> {
  const text = (value as { 'Fn::Sub': string })['Fn::Sub'];
  assert.equal(typeof text, 'string', 'a !Sub string');
  const parsed = JSON.parse(text) as Record<string, string>;
  return Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [k, /^\$\{(\w+)\}$/.exec(v)?.[1] ?? `not a reference: ${v}`]),
  );
}

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

for (const image of matrix.images) {
  const key = `${image.flavour}:${image.runtime}`;
  test(`${key}: a job definition <stack>-${EXPECTED_SUFFIX[key]} on its image <version>-${image.runtime}`, () => {
    const suffix = EXPECTED_SUFFIX[key];
    assert.ok(suffix, `no expected name for ${key}: add it to this test`);
    const [, def] = bySuffix(suffix);
    const repository = image.flavour === 'geolambda' ? 'GeoLambdaImageRepository' : 'LambdaImageRepository';
    assert.deepEqual(def.image, { 'Fn::Sub': `\${${repository}}:\${ImageVersion}-${image.runtime}` });
    assert.deepEqual(def.command, ['run', 'Ref::lambda_function', 'Ref::url', 'Ref::url_out']);
  });
}

test('the python3.12 images keep the definitions the dispatcher already had (JOB_DEFINITION_LAMBDA/GEOLAMBDA)', () => {
  const env = dispatcherEnv();
  assert.deepEqual(env.JOB_DEFINITION_LAMBDA, { Ref: bySuffix('lambda')[0] });
  assert.deepEqual(env.JOB_DEFINITION_GEOLAMBDA, { Ref: bySuffix('geolambda')[0] });
});

test('JOB_DEFINITIONS maps every <flavour>:<runtime> of the matrix to its definition, and so does the output', () => {
  const env = dispatcherEnv();
  const map = subMap(env.JOB_DEFINITIONS);
  assert.deepEqual(Object.keys(map).sort(), matrix.images.map((i) => `${i.flavour}:${i.runtime}`).sort());
  for (const [key, id] of Object.entries(map))
    assert.equal(id, bySuffix(EXPECTED_SUFFIX[key] ?? '?')[0], key);
  assert.deepEqual(subMap(template.Outputs?.JobDefinitions?.Value), map);
});
