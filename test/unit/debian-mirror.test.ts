// The stand-in bases' Debian mirror (test/images/debian-mirror.ts) comes from DEBIAN_MIRROR or this machine's apt
// sources, never from an address of the project's own; with neither, the build stops with one line saying how to
// give it one. Each case is an apt folder of its own, so no test touches /etc.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { debianMirror, NoDebianMirrorError } from '../images/debian-mirror.js';

const work = mkdtempSync(join(tmpdir(), 'debian-mirror-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

/** An apt folder holding `files` (paths under it → text). */
function apt(files: Record<string, string>): string {
  const dir = join(work, `apt${++n}`);
  mkdirSync(join(dir, 'sources.list.d'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const DEB822 = `Types: deb
URIs: http://mirror.test/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.test/debian-security
Suites: bookworm-security
Components: main
`;

test("the mirror is the first Debian archive of apt's deb822 sources", () => {
  const aptDir = apt({ 'sources.list.d/debian.sources': DEB822 });
  assert.equal(debianMirror({ aptDir, env: {} }), 'http://mirror.test/debian');
});

test('the mirror comes from a one-line sources.list, read before sources.list.d as apt reads them', () => {
  const aptDir = apt({
    'sources.list':
      '# deb http://commented.test/debian bookworm main\ndeb [arch=amd64] http://first.test/debian/ bookworm main\n',
    'sources.list.d/debian.sources': DEB822,
  });
  assert.equal(debianMirror({ aptDir, env: {} }), 'http://first.test/debian');
});

test('files apt does not read, disabled stanzas, deb-src and other archives are passed over', () => {
  const aptDir = apt({
    'sources.list.d/a.sources.disabled': 'Types: deb\nURIs: http://disabled-file.test/debian\n',
    'sources.list.d/b.sources':
      'Types: deb\nURIs: http://off.test/debian\nEnabled: no\n\nTypes: deb-src\nURIs: http://src.test/debian\n',
    'sources.list.d/c.list': 'deb http://packages.test/apt stable main\n',
    'sources.list.d/d.list': 'deb http://wanted.test/debian trixie main\n',
  });
  assert.equal(debianMirror({ aptDir, env: {} }), 'http://wanted.test/debian');
});

test('DEBIAN_MIRROR wins over the apt sources', () => {
  const aptDir = apt({ 'sources.list.d/debian.sources': DEB822 });
  assert.equal(
    debianMirror({ aptDir, env: { DEBIAN_MIRROR: 'https://own.test/debian/' } }),
    'https://own.test/debian',
  );
});

test('with no Debian archive in apt and no DEBIAN_MIRROR, one line says so and how to configure one', () => {
  const aptDir = apt({ 'sources.list.d/ubuntu.sources': 'Types: deb\nURIs: http://archive.test/ubuntu\n' });
  assert.throws(
    () => debianMirror({ aptDir, env: {} }),
    (err: Error) => {
      assert.ok(err instanceof NoDebianMirrorError);
      assert.doesNotMatch(err.message, /\n/, 'one line');
      assert.match(err.message, /^no Debian mirror to build the stand-in bases from/);
      assert.ok(err.message.includes(join(aptDir, 'sources.list.d')), 'it names where apt was looked at');
      assert.match(err.message, /set DEBIAN_MIRROR to the URL of a Debian mirror/);
      assert.doesNotMatch(err.message, /https?:\/\//, 'it suggests no host of its own');
      return true;
    },
  );
});

test('an apt folder that does not exist is the same: no mirror, the same line', () => {
  assert.throws(() => debianMirror({ aptDir: join(work, 'none'), env: {} }), NoDebianMirrorError);
});

test('a DEBIAN_MIRROR that is not a URL is refused by name', () => {
  assert.throws(
    () => debianMirror({ aptDir: apt({}), env: { DEBIAN_MIRROR: 'mirror.test/debian' } }),
    /^NoDebianMirrorError: DEBIAN_MIRROR is not an http\(s\) or file URL: mirror\.test\/debian$/,
  );
});
