// Checks HTTP exchanges recorded by the functional tests against openapi.yaml.
//
//   node tests/contract/validate-responses.mjs [--spec openapi.yaml] CAPTURES...
//
// CAPTURES are NDJSON files, or directories of *.ndjson files, one exchange per line:
//   {"service", "method", "path" (no query), "query", "status", "content_type", "body",
//    "headers" (response header names to values), "request_content_type", "request_body"}
// (written by Service::Client() in tests/functional/harness.cpp when CIVIC_CAPTURE_DIR is set).
//
// For each exchange: every response header is declared by the response (or is one every answer
// may carry, see undeclaredHeaders); the path template matching the path (literal segments win over
// parameters), the operation for the method (HEAD uses GET), the response for the status (exact,
// then 4XX/5XX, then default), the media type (parameters such as charset ignored), and the body
// against that media type's schema (OpenAPI 3.1 schemas are JSON Schema 2020-12; `$ref`s into
// the document resolve). Exits 1 listing every distinct failure; prints the spec's operations
// no exchange reached (informational).
//
// Accepted without an operation in the spec: a 404/405 whose body is a `Problem`
// (deliberately unknown routes and wrong methods), and an empty 204 to OPTIONS on a documented
// path (the CORS preflight answered on every route, see info.description).
//
// The packages are pinned in tools/package.json and installed by scripts/setup-debian.sh.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const SETUP_HINT = 'run scripts/setup-debian.sh (it installs the pinned npm tools into tools/)';

function loadPackages() {
  const require = createRequire(path.join(repoRoot, 'tools', 'package.json'));
  try {
    return {
      Ajv2020: require('ajv/dist/2020.js').default,
      addFormats: require('ajv-formats').default,
      YAML: require('yaml'),
    };
  } catch (error) {
    console.error(`validate-responses: the npm packages ajv, ajv-formats and yaml are missing: ` +
                  `${SETUP_HINT}\n(${error.message.split('\n')[0]})`);
    process.exit(1);
  }
}

const { Ajv2020, addFormats, YAML } = loadPackages();

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const DOC_ID = 'urn:civic:openapi';
const MAX_SHOWN = 50;

// ---------------------------------------------------------------------------------------------
// The document

export function loadSpec(file) {
  return YAML.parse(fs.readFileSync(file, 'utf8'));
}

function escapePointer(segment) {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(segment) {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

// Follows `$ref`s inside the document; returns {node, pointer} of the object finally reached.
function resolve(doc, node, pointer) {
  const seen = new Set();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (!ref.startsWith('#/') || seen.has(ref)) {
      throw new Error(`${pointer}: cannot follow $ref ${ref} (only '#/...' inside the document)`);
    }
    seen.add(ref);
    pointer = ref.slice(1);
    node = doc;
    for (const part of pointer.slice(1).split('/').map(unescapePointer)) {
      node = node?.[part];
    }
    if (node === undefined) {
      throw new Error(`$ref ${ref} points at nothing`);
    }
  }
  return { node, pointer };
}

// Media type "essence": type/subtype, lower case, without parameters.
function essence(mediaType) {
  return String(mediaType ?? '').split(';')[0].trim().toLowerCase();
}

function isJsonMediaType(mediaType) {
  const e = essence(mediaType);
  return e === 'application/json' || e.endsWith('+json');
}

// One path template compiled to a matcher; more literal segments = more specific.
function compileTemplate(template) {
  const segments = template.split('/');
  let literals = 0;
  let literalChars = 0;
  const parts = segments.map((segment) => {
    if (!segment.includes('{')) {
      ++literals;
      literalChars += segment.length;
      return (s) => s === segment;
    }
    const pattern = segment
      .split(/(\{[^}]*\})/)
      .map((piece) => {
        if (piece.startsWith('{') && piece.endsWith('}')) {
          return '([^/]+)';
        }
        literalChars += piece.length;
        return piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    const regex = new RegExp(`^${pattern}$`);
    return (s) => regex.test(s);
  });
  return {
    template,
    literals,
    literalChars,
    matches(concrete) {
      const concreteSegments = concrete.split('/');
      return concreteSegments.length === parts.length &&
             parts.every((match, i) => match(concreteSegments[i]));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The validator

export function createValidator(doc) {
  if (!doc || typeof doc !== 'object' || !doc.paths) {
    throw new Error('not an OpenAPI document (no paths)');
  }
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false });
  addFormats(ajv);
  // OpenAPI's own formats (https://spec.openapis.org/registry/format/).
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
  for (const name of ['float', 'double']) {
    ajv.addFormat(name, { type: 'number', validate: () => true });
  }
  ajv.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  for (const name of ['binary', 'password']) {
    ajv.addFormat(name, () => true);
  }
  // The whole document is one schema resource, so `$ref: '#/components/schemas/X'` anywhere
  // resolves against it; each response schema is compiled as a reference to its location.
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const compiled = new Map();
  const schemaAt = (pointer) => {
    if (!compiled.has(pointer)) {
      const fragment = pointer.split('/').map((s) => encodeURIComponent(s)).join('/');
      compiled.set(pointer, ajv.compile({ $ref: `${DOC_ID}#${fragment}` }));
    }
    return compiled.get(pointer);
  };

  const operations = [];  // {template, method, key}
  const templates = [];
  for (const [template, rawItem] of Object.entries(doc.paths)) {
    const { node: item, pointer } = resolve(doc, rawItem, `/paths/${escapePointer(template)}`);
    const compiledTemplate = compileTemplate(template);
    compiledTemplate.item = item;
    compiledTemplate.pointer = pointer;
    templates.push(compiledTemplate);
    for (const method of METHODS) {
      if (item[method]) {
        operations.push({ template, method: method.toUpperCase(), key: `${method} ${template}` });
      }
    }
  }
  templates.sort((a, b) => b.literals - a.literals || b.literalChars - a.literalChars);

  const problemPointer = doc.components?.schemas?.Problem ? '/components/schemas/Problem' : null;

  // The most specific template matching `concrete`, preferring one with `method` among equals.
  function findTemplate(concrete, method) {
    const matching = templates.filter((t) => t.matches(concrete));
    if (matching.length === 0) {
      return null;
    }
    const best = matching.filter(
      (t) => t.literals === matching[0].literals && t.literalChars === matching[0].literalChars);
    return best.find((t) => t.item[method]) ?? best[0];
  }

  function findResponse(responses, status) {
    const code = String(status);
    const range = `${code[0]}XX`;
    for (const key of [code, range, range.toLowerCase(), 'default']) {
      if (responses && Object.hasOwn(responses, key)) {
        return key;
      }
    }
    return null;
  }

  function findMediaType(content, contentType) {
    const wanted = essence(contentType);
    const keys = Object.keys(content);
    return (
      keys.find((k) => k.replace(/\s+/g, '') === String(contentType).replace(/\s+/g, '')) ??
      keys.find((k) => essence(k) === wanted) ??
      keys.find((k) => essence(k) === `${wanted.split('/')[0]}/*`) ??
      keys.find((k) => essence(k) === '*/*') ??
      null
    );
  }

  // Validates the body (parsed when its Content-Type is JSON) against the schema at
  // `schemaPointer`; returns error strings (empty: valid).
  function checkBody(capture, schemaPointer) {
    if (essence(capture.content_type) === 'application/x-ndjson') {
      // Newline-delimited JSON: the schema describes each line.
      const lines = String(capture.body).split('\n').filter((line) => line.trim() !== '');
      for (let i = 0; i < lines.length; ++i) {
        const errors = checkBody(
          {...capture, content_type: 'application/json', body: lines[i]}, schemaPointer);
        if (errors.length > 0) {
          return errors.map((e) => `line ${i + 1}: ${e}`);
        }
      }
      return [];
    }
    let value = capture.body;
    if (isJsonMediaType(capture.content_type)) {
      try {
        value = JSON.parse(capture.body);
      } catch (error) {
        return [`body is not valid JSON: ${error.message}`];
      }
    }
    const validate = schemaAt(schemaPointer);
    if (validate(value)) {
      return [];
    }
    return validate.errors.map((e) => {
      const where = e.instancePath || '(body)';
      let text = `${where} ${e.message}`;
      if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
        text += `: ${e.params.additionalProperty ?? e.params.unevaluatedProperty}`;
      } else if (e.keyword === 'enum') {
        text += `: ${JSON.stringify(e.params.allowedValues)}`;
      }
      return text;
    });
  }

  // An exchange outside the documented operations: only a Problem 404/405 is fine.
  function checkUnknown(capture, what) {
    const status = Number(capture.status);
    if (status !== 404 && status !== 405) {
      return { problems: [`${what} is not in openapi.yaml (answered ${status})`] };
    }
    if (!problemPointer) {
      return { problems: [`${what} is not in openapi.yaml and there is no Problem schema`] };
    }
    if (essence(capture.content_type) !== 'application/problem+json') {
      return {
        problems: [`${what} is not in openapi.yaml; its ${status} has Content-Type ` +
                   `'${capture.content_type}', not application/problem+json`],
      };
    }
    return { problems: checkBody(capture, problemPointer).map((e) => `Problem: ${e}`) };
  }

  // Returns {operation?: key, template?, problems: [string]}.
  // Headers every answer may carry without each response declaring them: HTTP's own, CORS
  // (info.description), and the document's `components.headers` marked
  // `x-on-every-response: true` (e.g. X-Request-Id).
  const commonHeaders = new Set([
    'content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding',
    'content-encoding', 'vary', 'server', 'access-control-allow-origin',
    'access-control-allow-credentials', 'access-control-expose-headers',
    'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age',
  ]);
  // A component's key (XRequestId) is not the header's name (X-Request-Id): the names are those
  // under which responses use the component, by `$ref` (or by the same object once resolved).
  const everyResponse = new Set();
  for (const [key, header] of Object.entries(doc.components?.headers ?? {})) {
    if (header?.['x-on-every-response'] === true) {
      everyResponse.add(`#/components/headers/${key}`);
      everyResponse.add(header);
    }
  }
  const seen = new Set();
  (function walk(node) {
    if (!node || typeof node !== 'object' || seen.has(node)) {
      return;
    }
    seen.add(node);
    if (node.headers && typeof node.headers === 'object' && !Array.isArray(node.headers)) {
      for (const [name, header] of Object.entries(node.headers)) {
        if (everyResponse.has(header) || everyResponse.has(header?.$ref)) {
          commonHeaders.add(name.toLowerCase());
        }
      }
    }
    for (const value of Object.values(node)) {
      walk(value);
    }
  })(doc);

  // The names of the captured response headers that the response does not declare.
  function undeclaredHeaders(capture, response) {
    if (!capture.headers || typeof capture.headers !== 'object') {
      return [];  // captures of an older harness carry no headers
    }
    const declared = new Set(Object.keys(response.headers ?? {}).map((n) => n.toLowerCase()));
    return Object.keys(capture.headers)
        .filter((name) => !commonHeaders.has(name.toLowerCase()) &&
                          !declared.has(name.toLowerCase()));
  }

  function check(capture) {
    const method = String(capture.method ?? '').toUpperCase();
    const concrete = String(capture.path ?? '');
    const status = Number(capture.status);
    if (!method || !concrete.startsWith('/') || !Number.isInteger(status)) {
      return { problems: [`malformed capture: ${JSON.stringify(capture).slice(0, 200)}`] };
    }
    const specMethod = method === 'HEAD' ? 'get' : method.toLowerCase();
    const template = findTemplate(concrete, specMethod);
    if (!template) {
      return checkUnknown(capture, `path ${concrete}`);
    }
    const rawOperation = template.item[specMethod];
    if (!rawOperation) {
      if (method === 'OPTIONS' && status === 204 && !capture.body) {
        return { template: template.template, preflight: true, problems: [] };
      }
      return { template: template.template,
               ...checkUnknown(capture, `${method} on ${template.template}`) };
    }
    const opPointer = `${template.pointer}/${specMethod}`;
    const { node: operation } = resolve(doc, rawOperation, opPointer);
    const result = { template: template.template, operation: `${specMethod} ${template.template}`,
                     problems: [] };
    const responseKey = findResponse(operation.responses, status);
    if (!responseKey) {
      const documented = Object.keys(operation.responses ?? {}).join(', ');
      result.problems.push(`status ${status} is not documented (documented: ${documented})`);
      return result;
    }
    const { node: response, pointer: responsePointer } = resolve(
      doc, operation.responses[responseKey], `${opPointer}/responses/${escapePointer(responseKey)}`);
    for (const name of undeclaredHeaders(capture, response)) {
      result.problems.push(`header ${name} is sent but not declared in response ${responseKey}`);
    }
    const content = response.content ?? {};
    const hasBody = typeof capture.body === 'string' && capture.body.length > 0;
    if (Object.keys(content).length === 0) {
      if (hasBody) {
        result.problems.push(`response ${responseKey} documents no body, but one came ` +
                             `(${capture.content_type || 'no Content-Type'})`);
      }
      return result;
    }
    if (!hasBody) {
      if (method !== 'HEAD') {  // HEAD: the GET response's headers without its body
        result.problems.push(`empty body; response ${responseKey} documents ` +
                             Object.keys(content).join(', '));
      }
      return result;
    }
    if (!capture.content_type) {
      result.problems.push(`no Content-Type; response ${responseKey} documents ` +
                           Object.keys(content).join(', '));
      return result;
    }
    const mediaKey = findMediaType(content, capture.content_type);
    if (!mediaKey) {
      result.problems.push(`Content-Type '${capture.content_type}' is not documented for ` +
                           `${responseKey} (documented: ${Object.keys(content).join(', ')})`);
      return result;
    }
    if (content[mediaKey]?.schema === undefined) {
      return result;  // a media type without a schema allows any body
    }
    const schemaPointer = `${responsePointer}/content/${escapePointer(mediaKey)}/schema`;
    for (const error of checkBody(capture, schemaPointer)) {
      result.problems.push(error);
    }
    return result;
  }

  // The template of the operation serving `method` (lower case) on `concrete`, or null.
  function matchOperation(concrete, method) {
    const template = findTemplate(concrete, method);
    return template && template.item[method] ? template.template : null;
  }

  return { check, operations, schemaAt, matchOperation };
}

// ---------------------------------------------------------------------------------------------
// Many captures: failures (deduplicated) and coverage

// Reads NDJSON captures from files and directories; returns {captures, errors, files}.
export function readCaptures(inputs) {
  const files = [];
  for (const input of inputs) {
    const stat = fs.statSync(input, { throwIfNoEntry: false });
    if (!stat) {
      continue;
    }
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(input).sort()) {
        if (name.endsWith('.ndjson')) {
          files.push(path.join(input, name));
        }
      }
    } else {
      files.push(input);
    }
  }
  const captures = [];
  const errors = [];
  for (const file of files) {
    fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (!line.trim()) {
        return;
      }
      try {
        captures.push(JSON.parse(line));
      } catch (error) {
        errors.push(`${file}:${i + 1}: not JSON: ${error.message}`);
      }
    });
  }
  return { captures, errors, files };
}

export function validateCaptures(doc, captures) {
  const validator = createValidator(doc);
  const failures = new Map();  // dedup key -> {count, example, problems}
  const reached = new Map(validator.operations.map((op) => [op.key, 0]));
  let preflights = 0;
  let unknownRoutes = 0;
  for (const capture of captures) {
    const result = validator.check(capture);
    if (result.operation) {
      reached.set(result.operation, (reached.get(result.operation) ?? 0) + 1);
    } else if (result.preflight) {
      ++preflights;
    } else if (result.problems.length === 0) {
      ++unknownRoutes;
    }
    if (result.problems.length === 0) {
      continue;
    }
    const where = result.template ?? capture.path;
    // Array indices in error paths vary between otherwise identical failures.
    const key = [capture.method, where, capture.status,
                 ...result.problems.map((p) => p.replace(/\/\d+(?=\/|\s)/g, '/*'))].join('\n');
    const entry =
      failures.get(key) ?? { count: 0, capture, problems: result.problems, services: new Set() };
    ++entry.count;
    entry.services.add(capture.service ?? 'unknown service');
    failures.set(key, entry);
  }
  const unreached = validator.operations.filter((op) => reached.get(op.key) === 0);
  return { failures: [...failures.values()], reached, unreached, operations: validator.operations,
           preflights, unknownRoutes };
}

export function formatFailure({ capture, count, problems, services }) {
  const query = capture.query ? `?${capture.query}` : '';
  const lines = [`${capture.method} ${capture.path}${query} -> ${capture.status} ` +
                 `[${[...services].join(', ')}]` +
                 (count > 1 ? ` (${count} times)` : '')];
  for (const problem of problems.slice(0, 10)) {
    lines.push(`    ${problem}`);
  }
  if (problems.length > 10) {
    lines.push(`    ... and ${problems.length - 10} more errors`);
  }
  const body = String(capture.body ?? '');
  if (body) {
    lines.push(`    body: ${body.length > 300 ? `${body.slice(0, 300)}...` : body}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Command line

function main(argv) {
  let specFile = path.join(repoRoot, 'openapi.yaml');
  const inputs = [];
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--spec') {
      specFile = argv[++i];
    } else if (argv[i] === '-h' || argv[i] === '--help') {
      console.log('usage: validate-responses.mjs [--spec openapi.yaml] CAPTURE_DIR_OR_FILE...');
      return 0;
    } else {
      inputs.push(argv[i]);
    }
  }
  if (inputs.length === 0) {
    console.error('usage: validate-responses.mjs [--spec openapi.yaml] CAPTURE_DIR_OR_FILE...');
    return 2;
  }
  const doc = loadSpec(specFile);
  const { captures, errors, files } = readCaptures(inputs);
  if (errors.length > 0) {
    console.error(`unreadable captures:\n  ${errors.slice(0, MAX_SHOWN).join('\n  ')}`);
    return 1;
  }
  if (captures.length === 0) {
    console.error(`no captured exchanges in ${inputs.join(', ')}: the functional tests write ` +
                  'them when CIVIC_CAPTURE_DIR is set (ctest sets it; run them first)');
    return 1;
  }
  const result = validateCaptures(doc, captures);
  const exercised = result.operations.length - result.unreached.length;
  console.log(`${captures.length} exchanges from ${files.length} capture files checked against ` +
              `${path.relative(repoRoot, specFile).startsWith('..') ? specFile : path.relative(repoRoot, specFile)}; operations exercised: ` +
              `${exercised}/${result.operations.length}` +
              (result.unknownRoutes ? `; unknown-route problems: ${result.unknownRoutes}` : '') +
              (result.preflights ? `; CORS preflights: ${result.preflights}` : ''));
  if (result.unreached.length > 0) {
    console.log('not exercised by any functional test (informational):');
    for (const op of result.unreached) {
      console.log(`  ${op.method} ${op.template}`);
    }
  }
  if (result.failures.length === 0) {
    console.log('every response matches openapi.yaml');
    return 0;
  }
  console.log(`\n${result.failures.length} distinct responses do not match openapi.yaml ` +
              '(fix the service, or the spec if it is the spec that is wrong):');
  for (const failure of result.failures.slice(0, MAX_SHOWN)) {
    console.log(formatFailure(failure));
  }
  if (result.failures.length > MAX_SHOWN) {
    console.log(`... and ${result.failures.length - MAX_SHOWN} more`);
  }
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(`validate-responses: ${error.message}`);
    process.exitCode = 1;
  }
}
