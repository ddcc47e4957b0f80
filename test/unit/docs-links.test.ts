// The documents hold together: every relative link in README.md and docs/*.md names a file of the repository (and
// every #anchor a heading of the page it names, slugged as GitHub does); every page of docs/ the code names (with the
// section it quotes: `docs/runner.md "Exit codes"`) is there; and the README stays a start of at most 300 lines, the
// reference living under docs/.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const README_MAX_LINES = 300;

/** The page's text with fenced code blocks and inline code spans blanked: links there are examples, not links. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/(`+)[^`][\s\S]*?\1(?!`)/g, '``');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped (not `-` or `_`), each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a page offers: its headings' slugs, a repeated one numbered `-1`, `-2`… as GitHub does. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Inline links `[text](target)` and reference definitions `[label]: target` of a page's prose. */
function linkTargets(text: string): string[] {
  const body = prose(text);
  const inline = [...body.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string);
  const defined = [...body.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1] as string);
  return [...inline, ...defined];
}

/** Every relative link of `file` (a path under `base`) that does not resolve, with the reason. */
function brokenLinks(base: string, file: string): string[] {
  const text = readFileSync(join(base, file), 'utf8');
  const broken: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not a file of the repository
    const [rawPath = '', anchor] = target.split('#', 2);
    const path = decodeURIComponent(rawPath);
    const absolute =
      path === ''
        ? join(base, file)
        : resolve(path.startsWith('/') ? base : dirname(join(base, file)), path.replace(/^\//, ''));
    const inside = relative(base, absolute);
    if (inside.startsWith(`..${sep}`) || inside === '..') {
      broken.push(`${target}: outside the repository`);
      continue;
    }
    if (!existsSync(absolute)) {
      broken.push(`${target}: no such file`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!absolute.endsWith('.md')) {
      broken.push(`${target}: an anchor into a file that is not Markdown`);
      continue;
    }
    if (!anchors(readFileSync(absolute, 'utf8')).has(anchor)) broken.push(`${target}: no heading #${anchor}`);
  }
  return broken;
}

/** Where code names a page of docs/: `docs/<page>.md`, and the section quoted after it (`"Exit codes"`), if any. */
function docMentions(text: string): { page: string; section?: string }[] {
  // A mention may run on over a comment's next line (`//`, `#`, ` *`).
  const flat = text.replace(/\n\s*(?:\/\/|#|\*)\s*/g, ' ');
  return [...flat.matchAll(/\bdocs\/([a-z0-9-]+\.md)(?:[ ,:]*"([^"\n]+)")?/g)].map((m) =>
    m[2] === undefined ? { page: m[1] as string } : { page: m[1] as string, section: m[2] },
  );
}

/** Every page of docs/ that `file` (a path under `base`) names but the repository lacks, or a section it lacks. */
function brokenMentions(base: string, file: string): string[] {
  const broken: string[] = [];
  for (const { page, section } of docMentions(readFileSync(join(base, file), 'utf8'))) {
    const path = join(base, 'docs', page);
    if (!existsSync(path)) broken.push(`${file}: docs/${page}: no such page`);
    else if (section !== undefined && !anchors(readFileSync(path, 'utf8')).has(slug(section)))
      broken.push(`${file}: docs/${page} "${section}": no such heading`);
  }
  return broken;
}

/** The repository's code and configuration (not its pages, nor what is built or installed), under `dir`. */
function codeFiles(base: string, dir = ''): string[] {
  return readdirSync(join(base, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory())
      return ['node_modules', 'dist', 'docs', '.git', '.venv', '.cache', '.aws-sam'].includes(entry.name)
        ? []
        : codeFiles(base, rel);
    return /\.(ts|mts|mjs|js|py|sh|ya?ml|json|toml)$|^Dockerfile$|^run$/.test(entry.name) ? [rel] : [];
  });
}

const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

for (const page of pages) {
  test(`every relative link in ${page} names a file of the repository, and every #anchor one of its headings`, () => {
    assert.deepEqual(brokenLinks(root, page), []);
  });
}

test('every page of docs/ the code names is there, and so is every section it quotes', () => {
  const self = relative(root, fileURLToPath(import.meta.url));
  const files = codeFiles(root).filter((f) => f !== self);
  assert.ok(files.length > 200, `${files.length} files read`);
  assert.deepEqual(
    files.flatMap((f) => brokenMentions(root, f)),
    [],
  );
});

test(`README.md is a start of at most ${README_MAX_LINES} lines (the reference lives under docs/)`, () => {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines`);
});

test('headings slug as GitHub makes their anchors', () => {
  assert.equal(
    slug('External runtime (container-image functions)'),
    'external-runtime-container-image-functions',
  );
  assert.equal(slug('Runtime: nodejs24.x'), 'runtime-nodejs24x');
  assert.equal(slug('What `npm test` needs'), 'what-npm-test-needs');
  assert.equal(slug('The runner: `run-lambda`'), 'the-runner-run-lambda');
  assert.equal(
    slug('Step Functions: a Lambda function as a Batch step'),
    'step-functions-a-lambda-function-as-a-batch-step',
  );
});

const sandbox = mkdtempSync(join(tmpdir(), 'docs-links-'));
after(() => rmSync(sandbox, { recursive: true, force: true }));

test('the check names a missing file, a missing heading and a link that leaves the repository, and skips code', () => {
  mkdirSync(join(sandbox, 'docs'));
  writeFileSync(
    join(sandbox, 'docs/a.md'),
    '# A\n\n## Item sets (array jobs)\n\n## Item sets (array jobs)\n',
  );
  writeFileSync(
    join(sandbox, 'README.md'),
    [
      '# Start',
      '[a](docs/a.md), [sets](docs/a.md#item-sets-array-jobs), [again](docs/a.md#item-sets-array-jobs-1),',
      '[self](#start), [web](https://example.com/x.md), [mail](mailto:a@b.c)',
      '[gone](docs/gone.md) [no heading](docs/a.md#exit-codes) [out](../elsewhere.md) [here](#nowhere)',
      '`[in code](docs/code.md)`',
      '```',
      '[in a block](docs/block.md)',
      '```',
      '[ref]: docs/missing-ref.md',
      '',
    ].join('\n'),
  );
  assert.deepEqual(brokenLinks(sandbox, 'README.md'), [
    'docs/gone.md: no such file',
    'docs/a.md#exit-codes: no heading #exit-codes',
    '../elsewhere.md: outside the repository',
    '#nowhere: no heading #nowhere',
    'docs/missing-ref.md: no such file',
  ]);
});

test('the code check names a missing page and a missing section, also when the mention runs on to the next line', () => {
  mkdirSync(join(sandbox, 'src'));
  writeFileSync(
    join(sandbox, 'src/x.ts'),
    [
      '// Item sets (docs/a.md "Item sets (array jobs)"), records (docs/a.md',
      '// "Run records"), and docs/none.md.',
      '# docs/a.md: "A"',
      '',
    ].join('\n'),
  );
  assert.deepEqual(brokenMentions(sandbox, 'src/x.ts'), [
    'src/x.ts: docs/a.md "Run records": no such heading',
    'src/x.ts: docs/none.md: no such page',
  ]);
});
