// A function's extension in an image, where Docker (as ECS) wrote /etc/hosts when the container started and knows no
// sandbox.localdomain: the runner adds the name, so that an extension can bind its telemetry listener to it, as in
// Lambda, and its subscription to http://sandbox.localdomain:<port> is delivered there.
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ImageSet } from './images.js';
import { ranOn, runIn, skip, withImagesAndWork } from './support.js';

const EXTENSION = new URL('../runner/fixtures/extensions/py-telemetry-ext.py', import.meta.url);
const HANDLER = `def lambda_handler(event, context):
    print("handling", event["n"], flush=True)
    return {"n": event["n"]}
`;

let set: ImageSet;
let work: string;
withImagesAndWork('run-lambda-image-ext-', (started) => {
  ({ set, work } = started);
});

test('python3.12: an extension binds its telemetry listener to sandbox.localdomain and gets the events there', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'python3.12');
  t.diagnostic(ranOn(image));
  await mkdir(join(work, 'task'), { recursive: true });
  await mkdir(join(work, 'opt', 'extensions'), { recursive: true });
  await writeFile(join(work, 'task', 'lambda_function.py'), HANDLER);
  const ext = join(work, 'opt', 'extensions', 'telemetry-ext');
  await copyFile(EXTENSION, ext);
  await chmod(ext, 0o755);
  const r = await runIn(image, ['run', '--opt-dir', '/work/opt', '/work/task', 'data:,{"n":7}', '-'], {
    volumes: [`${work}:/work`],
    env: { EXT_LOG: '/work/ext.log', TELEMETRY_BIND: 'sandbox.localdomain' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { n: 7 });
  const lines = (await readFile(join(work, 'ext.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines[0]?.subscribed, 200, lines[0]?.answer);
  const events = lines.flatMap((l) => l.batch ?? []) as { type: string; record: unknown }[];
  const types = new Set(events.map((e) => e.type));
  for (const type of ['platform.initStart', 'platform.start', 'platform.report', 'function'])
    assert.ok(types.has(type), `${type} among ${[...types].join(', ')}`);
  assert.ok(events.some((e) => e.type === 'function' && String(e.record).includes('handling 7')));
  assert.equal(lines.at(-1)?.shutdown?.eventType, 'SHUTDOWN');
});
