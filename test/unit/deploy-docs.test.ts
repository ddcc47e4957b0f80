// docs/deploy.md is the template's manual: every parameter, resource and output of template.yaml is in it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadTemplate } from '../support/cfn-yaml.js';

const template = loadTemplate();
const doc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
const named = (id: string) => doc.includes(`\`${id}\``);

test('docs/deploy.md has a row for every parameter of template.yaml', () => {
  const missing = Object.keys(template.Parameters ?? {}).filter((p) => !doc.includes(`| \`${p}\` |`));
  assert.deepEqual(missing, []);
});

test('docs/deploy.md names every resource of template.yaml (the job definitions by name in their own table)', () => {
  const missing = Object.entries(template.Resources)
    .filter(([, r]) => r.Type !== 'AWS::Batch::JobDefinition')
    .map(([id]) => id)
    .filter((id) => !named(id));
  assert.deepEqual(missing, []);
});

test('docs/deploy.md names every output of template.yaml', () => {
  const missing = Object.keys(template.Outputs ?? {}).filter((o) => !named(o));
  assert.deepEqual(missing, []);
});
