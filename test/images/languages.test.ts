// The languages the runner has no client of its own for (Java, Ruby, .NET), each in its image, from a local folder (no
// AWS): the runner hands the function to the base's own runtime client (/var/runtime/bootstrap), as in Lambda.
// Gap: the public bases are replaced by stand-ins with a small stand-in client in that language (test/images/standins:
// Debian's OpenJDK for Java, Debian's Ruby 3.3 for every Ruby runtime); Debian packages no .NET, so the .NET stand-in
// has none, and its test shows the routing (the base's client is started) and the refusals only.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BuiltImage, ImageSet } from './images.js';
import { ranOn, runIn, skip, withImagesAndWork } from './support.js';

const EVENT = { tile: '31UFS', bands: [4, 3, 2] };
const PAYLOAD = `data:application/json;base64,${Buffer.from(JSON.stringify(EVENT)).toString('base64')}`;

let set: ImageSet;
let work: string;
withImagesAndWork('image-languages-', (started) => {
  ({ set, work } = started);
});

/** A folder of function code on this machine; `files` relative to it. */
async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name);
  for (const [f, text] of Object.entries(files)) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), text);
  }
  return dir;
}

/** `run <runtime options> /var/function <payload> -` in `image`, the folder mounted there read-only. */
function runLocal(image: BuiltImage, dir: string, handler: string) {
  return runIn(
    image,
    ['run', '--runtime', image.runtime, '--handler', handler, '/var/function', PAYLOAD, '-'],
    {
      volumes: [`${dir}:/var/function:ro`],
    },
  );
}

const JAVA_HANDLER = `package example;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

// A stream handler, as Lambda's Java runtime calls one: the event's JSON in, the result's JSON out.
public class Tiles {
  public void handleRequest(InputStream in, OutputStream out) throws IOException {
    String event = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    String result = "{\\"event\\":" + event + ",\\"java\\":\\"" + System.getProperty("java.specification.version")
        + "\\",\\"function\\":\\"" + System.getenv("AWS_LAMBDA_FUNCTION_NAME") + "\\"}";
    out.write(result.getBytes(StandardCharsets.UTF_8));
  }

  public void fail(InputStream in, OutputStream out) {
    throw new IllegalStateException("no such tile");
  }
}
`;

test('run-lambda java21: a Java handler compiled here runs through the base’s runtime client, and its exception is the error', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'java21');
  t.diagnostic(ranOn(image));
  const src = await folder('java-src', { 'example/Tiles.java': JAVA_HANDLER });
  // Compiled with the stand-in's own javac (Debian's OpenJDK 21) into the folder the function runs from.
  const javac = await runIn(image, ['javac', '-d', '/src/task', '/src/example/Tiles.java'], {
    volumes: [`${src}:/src`],
  });
  assert.equal(javac.code, 0, javac.stderr);
  const ok = await runLocal(image, join(src, 'task'), 'example.Tiles::handleRequest');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /served by the image's runtime client/);
  const out = JSON.parse(ok.stdout) as { event: unknown; java: string; function: string };
  assert.deepEqual(out.event, EVENT);
  assert.equal(out.java, '21');
  t.diagnostic(`Java ${out.java} ran the handler (AWS_LAMBDA_FUNCTION_NAME=${out.function})`);
  const bad = await runLocal(image, join(src, 'task'), 'example.Tiles::fail');
  assert.equal(bad.code, 1, bad.stderr);
  assert.equal(bad.lastLine, 'java.lang.IllegalStateException: no such tile');
});

const RUBY_HANDLER = `# Lambda's Ruby runtime calls the handler with keyword arguments.
def lambda_handler(event:, context:)
  { event: event, ruby: RUBY_VERSION, function: context.function_name }
end

def fail(event:, context:)
  raise ArgumentError, 'no such band'
end
`;

test('run-lambda ruby3.3: a Ruby handler runs through the base’s runtime client with event: and context:, and its exception is the error', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'ruby3.3');
  t.diagnostic(ranOn(image));
  const dir = await folder('ruby', { 'lambda_function.rb': RUBY_HANDLER });
  const ok = await runLocal(image, dir, 'lambda_function.lambda_handler');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /served by the image's runtime client/);
  const out = JSON.parse(ok.stdout) as { event: unknown; ruby: string; function: string };
  assert.deepEqual(out.event, EVENT);
  assert.match(out.ruby, /^3\.3\./);
  t.diagnostic(`Ruby ${out.ruby} ran the handler (context.function_name=${out.function})`);
  const bad = await runLocal(image, dir, 'lambda_function.fail');
  assert.equal(bad.code, 1, bad.stderr);
  assert.equal(bad.lastLine, 'ArgumentError: no such band');
});

test('run-lambda dotnet10: the function goes to the base’s own client (the stand-in has no .NET and says so), and no other runtime runs there', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'dotnet10');
  t.diagnostic(`${ranOn(image)}: routing and refusal only, the stand-in has no .NET`);
  const dir = await folder('dotnet', { 'Tiles.dll': 'not a real assembly: the stand-in never loads it\n' });
  const r = await runLocal(image, dir, 'Tiles::Tiles.Function::Handler');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /served by the image's runtime client/);
  assert.match(
    r.lastLine,
    /^Runtime\.StandInWithoutDotnet: this stand-in of public\.ecr\.aws\/lambda\/dotnet carries no \.NET/,
  );
  // A Python function is refused before anything starts (exit 3), naming the image to use.
  const py = await runIn(
    image,
    ['run', '--runtime', 'python3.12', '--handler', 'x.h', '/var/function', PAYLOAD, '-'],
    {
      volumes: [`${dir}:/var/function:ro`],
    },
  );
  assert.equal(py.code, 3, py.stderr);
  assert.match(py.lastLine, /serves dotnet10: run it in .*:\d[\w.-]*-python3\.12$/);
});

test('the Java image refuses a Ruby function and the Ruby image a Java one (exit 3), though neither runner has a client for them', {
  skip,
}, async (t) => {
  for (const [runtime, other, handler] of [
    ['java21', 'ruby3.3', 'lambda_function.lambda_handler'],
    ['ruby3.3', 'java21', 'example.Tiles::handleRequest'],
  ] as const) {
    const image = set.get('lambda', runtime);
    t.diagnostic(ranOn(image));
    const dir = await folder(`other-${runtime}`, { README: 'code of another runtime\n' });
    const r = await runIn(
      image,
      ['run', '--runtime', other, '--handler', handler, '/var/function', PAYLOAD, '-'],
      {
        volumes: [`${dir}:/var/function:ro`],
      },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.equal(
      r.lastLine,
      `RuntimeNotAvailableError: function runs on ${other} but this image (${image.name}) serves ${runtime}: run it in ${image.name.slice(0, -runtime.length)}${other}`,
    );
  }
});
