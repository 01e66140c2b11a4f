// Self-test of validate-responses.mjs: it accepts what matches openapi.yaml and fails what does
// not, and its matching rules (templates, HEAD, status ranges, media types, unknown routes) hold.
//   node tests/contract/selftest.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createValidator, loadSpec, validateCaptures } from './validate-responses.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const specFile = path.resolve(here, '../../openapi.yaml');
const validatorFile = path.join(here, 'validate-responses.mjs');

let passed = 0;
function test(name, fn) {
  try {
    fn();
    ++passed;
  } catch (error) {
    console.error(`FAILED: ${name}\n${error.stack}`);
    process.exitCode = 1;
  }
}

function capture(fields) {
  return { service: 'selftest', query: '', content_type: 'application/json', body: '', ...fields };
}

const good = capture({ method: 'GET', path: '/healthz', status: 200, body: '{"status":"ok"}' });
const bad = capture({ method: 'GET', path: '/healthz', status: 200, body: '{"status":"fine"}' });

// --- Against the real openapi.yaml --------------------------------------------------------------

const spec = loadSpec(specFile);

test('a response matching openapi.yaml passes', () => {
  assert.deepEqual(validateCaptures(spec, [good]).failures, []);
});

test('a body not matching openapi.yaml fails with the schema error', () => {
  const { failures } = validateCaptures(spec, [good, bad]);
  assert.equal(failures.length, 1);
  assert.equal(failures[0].capture, bad);
  assert.match(failures[0].problems.join('\n'), /\/status must be equal to one of the allowed/);
});

test('the command line exits 0 on good captures and 1 listing a bad one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-contract-selftest-'));
  try {
    fs.writeFileSync(path.join(dir, '1.ndjson'), `${JSON.stringify(good)}\n`);
    let run = spawnSync(process.execPath, [validatorFile, '--spec', specFile, dir], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /every response matches openapi\.yaml/);
    assert.match(run.stdout, /not exercised by any functional test/);

    fs.writeFileSync(path.join(dir, '2.ndjson'), `${JSON.stringify(bad)}\n${JSON.stringify(bad)}\n`);
    run = spawnSync(process.execPath, [validatorFile, '--spec', specFile, dir], { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /1 distinct responses do not match/);
    assert.match(run.stdout, /GET \/healthz -> 200 \[selftest\] \(2 times\)/);

    fs.rmSync(path.join(dir, '1.ndjson'));
    fs.rmSync(path.join(dir, '2.ndjson'));
    run = spawnSync(process.execPath, [validatorFile, '--spec', specFile, dir], { encoding: 'utf8' });
    assert.equal(run.status, 1, 'no captures at all must fail');
    assert.match(run.stderr, /no captured exchanges/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('openapi.yaml: Problem bodies, $ref responses, media type parameters, HEAD', () => {
  const ok = [
    capture({ method: 'GET', path: '/v1/cities/12', status: 404,
              content_type: 'application/problem+json',
              body: '{"type":"/problems/not-found","code":"not-found","title":"Not Found","status":404}' }),
    capture({ method: 'GET', path: '/metrics', status: 200,
              content_type: 'text/plain; version=0.0.4; charset=utf-8', body: 'up 1\n' }),
    capture({ method: 'GET', path: '/healthz', status: 200,
              content_type: 'application/json; charset=utf-8', body: '{"status":"ok"}' }),
    capture({ method: 'HEAD', path: '/v1/cities', status: 200 }),
    capture({ method: 'GET', path: '/v1/cities/3', status: 304, content_type: '' }),
  ];
  assert.deepEqual(validateCaptures(spec, ok).failures, []);
  const notProblem = capture({ method: 'GET', path: '/v1/cities/12', status: 404,
                               content_type: 'application/problem+json',
                               body: '{"title":"Not Found"}' });
  const { failures } = validateCaptures(spec, [notProblem]);
  assert.match(failures[0].problems.join('\n'), /must have required property 'type'/);
});

// --- Matching rules, on a small document ----------------------------------------------------------

const mini = {
  openapi: '3.1.0',
  info: { title: 'mini', version: '1' },
  paths: {
    '/things/{id}': {
      get: {
        responses: {
          200: { description: 'by id', content: { 'application/json': { schema: {
            $ref: '#/components/schemas/Thing' } } } },
          '4XX': { $ref: '#/components/responses/Error' },
        },
      },
      delete: { responses: { 204: { description: 'gone' } } },
    },
    '/things/mine': {
      get: {
        responses: {
          200: { description: 'literal wins', content: { 'application/json': { schema: {
            type: 'array' } } } },
          default: { $ref: '#/components/responses/Error' },
        },
      },
    },
    '/files/{name}.txt': {
      get: { responses: { 200: { description: 'text', content: { 'text/*': {
        schema: { type: 'string', minLength: 1 } } } } } },
    },
  },
  components: {
    schemas: {
      Thing: { type: 'object', required: ['id', 'at'], properties: {
        id: { type: 'integer', format: 'int64' },
        at: { type: 'string', format: 'date-time' },
      } },
      Problem: { type: 'object', required: ['status'], properties: {
        status: { type: 'integer' } } },
    },
    responses: {
      Error: { description: 'error', content: { 'application/problem+json': { schema: {
        $ref: '#/components/schemas/Problem' } } } },
    },
  },
};

function problemsOf(fields) {
  return createValidator(mini).check(capture(fields)).problems.join('\n');
}

test('a literal segment wins over a parameter', () => {
  const validator = createValidator(mini);
  const result = validator.check(capture({ method: 'GET', path: '/things/mine', status: 200,
                                           body: '[]' }));
  assert.equal(result.operation, 'get /things/mine');
  assert.deepEqual(result.problems, []);
  assert.equal(validator.check(capture({ method: 'GET', path: '/things/7', status: 200,
                                         body: '{"id":7,"at":"2024-01-02T03:04:05Z"}' })).operation,
               'get /things/{id}');
  assert.equal(problemsOf({ method: 'GET', path: '/files/notes.txt', status: 200,
                            content_type: 'text/plain', body: 'hi' }), '');
});

test('$refs into components resolve and formats are checked', () => {
  assert.match(problemsOf({ method: 'GET', path: '/things/7', status: 200,
                            body: '{"id":7,"at":"yesterday"}' }),
               /\/at must match format "date-time"/);
  assert.match(problemsOf({ method: 'GET', path: '/things/7', status: 200, body: '{"id":7}' }),
               /must have required property 'at'/);
  assert.match(problemsOf({ method: 'GET', path: '/things/7', status: 200, body: '{"id":' }),
               /not valid JSON/);
});

test('status: exact, then 4XX, then default; otherwise undocumented', () => {
  const problem = { content_type: 'application/problem+json', body: '{"status":409}' };
  assert.equal(problemsOf({ method: 'GET', path: '/things/7', status: 409, ...problem }), '');
  assert.match(problemsOf({ method: 'GET', path: '/things/7', status: 409,
                            content_type: 'application/problem+json', body: '{}' }),
               /required property 'status'/);
  assert.equal(problemsOf({ method: 'GET', path: '/things/mine', status: 503, ...problem }), '');
  assert.match(problemsOf({ method: 'GET', path: '/things/7', status: 500, ...problem }),
               /status 500 is not documented/);
});

test('content types and bodies must be documented', () => {
  assert.match(problemsOf({ method: 'GET', path: '/things/7', status: 200,
                            content_type: 'text/html', body: '<p>' }),
               /Content-Type 'text\/html' is not documented/);
  assert.match(problemsOf({ method: 'DELETE', path: '/things/7', status: 204, body: '{}' }),
               /documents no body/);
  assert.equal(problemsOf({ method: 'DELETE', path: '/things/7', status: 204 }), '');
  assert.match(problemsOf({ method: 'GET', path: '/things/7', status: 200 }), /empty body/);
  assert.equal(problemsOf({ method: 'HEAD', path: '/things/7', status: 200 }), '');
});

test('unknown paths and methods: only a Problem 404/405 passes', () => {
  const problem = { content_type: 'application/problem+json', body: '{"status":404}' };
  assert.equal(problemsOf({ method: 'GET', path: '/nowhere', status: 404, ...problem }), '');
  assert.equal(problemsOf({ method: 'PUT', path: '/things/7', status: 405, ...problem }), '');
  assert.match(problemsOf({ method: 'GET', path: '/nowhere', status: 200, body: '{}' }),
               /path \/nowhere is not in openapi.yaml/);
  assert.match(problemsOf({ method: 'PUT', path: '/things/7', status: 200, body: '{}' }),
               /PUT on \/things\/\{id\} is not in openapi.yaml/);
  assert.match(problemsOf({ method: 'GET', path: '/nowhere', status: 404,
                            content_type: 'text/plain', body: 'no' }),
               /not application\/problem\+json/);
  assert.match(problemsOf({ method: 'GET', path: '/things/7/', status: 404,
                            content_type: 'application/problem+json', body: '{}' }),
               /Problem: .*required property 'status'/);
  // The CORS preflight is answered on every documented path without an operation of its own.
  assert.equal(problemsOf({ method: 'OPTIONS', path: '/things/7', status: 204,
                            content_type: '' }), '');
  assert.match(problemsOf({ method: 'OPTIONS', path: '/things/7', status: 200, body: 'x' }),
               /OPTIONS on \/things\/\{id\} is not in openapi.yaml/);
});

test('coverage lists the operations no capture reached, and failures are deduplicated', () => {
  const wrong = { method: 'GET', status: 200, body: '{"id":"x","at":"2024-01-02T03:04:05Z"}' };
  const result = validateCaptures(mini, [capture({ ...wrong, path: '/things/1' }),
                                         capture({ ...wrong, path: '/things/2' })]);
  assert.deepEqual(result.unreached.map((op) => `${op.method} ${op.template}`),
                   ['DELETE /things/{id}', 'GET /things/mine', 'GET /files/{name}.txt']);
  assert.equal(result.failures.length, 1);
  assert.equal(result.failures[0].count, 2);
});

if (process.exitCode) {
  console.error('validate-responses self-test failed');
} else {
  console.log(`validate-responses self-test: ${passed} checks passed`);
}
