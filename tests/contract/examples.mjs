// Examples in openapi.yaml, taken from real test traffic and checked against their schemas.
//
//   node tests/contract/examples.mjs --check [--spec openapi.yaml]
//     Every operation has a summary and a description; every JSON request body and every
//     operation's main (lowest 2xx) JSON response has an `example`; every `example` in the
//     document is valid against its schema. Exits 1 listing what is missing or invalid.
//
//   node tests/contract/examples.mjs --fill CAPTURES... [--spec openapi.yaml]
//     For each request body and main response without an example, takes the first captured
//     exchange of that operation (tests/functional/harness.cpp records them when
//     CIVIC_CAPTURE_DIR is set; ctest keeps them in build/*/contract-captures) whose body is
//     valid against the schema, shortens its arrays to two items, and writes it into
//     openapi.yaml under the media type, leaving the rest of the file as it was. A developer
//     runs this after adding operations; the result is reviewed and committed.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createValidator, loadSpec, readCaptures } from './validate-responses.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const require = createRequire(path.join(repoRoot, 'tools', 'package.json'));
const YAML = require('yaml');

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function isJson(mediaType) {
  const e = mediaType.split(';')[0].trim().toLowerCase();
  return e === 'application/json' || e.endsWith('+json');
}

function escapePointer(segment) {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

// The places that need an example: {key, template, method, where: 'request'|status, mediaType,
// node (the media type object), pointer (of its schema)}.
export function examplePlaces(doc) {
  const places = [];
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) {
        continue;
      }
      const base = `/paths/${escapePointer(template)}/${method}`;
      for (const [mediaType, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (isJson(mediaType) && media.schema) {
          places.push({ template, method, where: 'request', mediaType, node: media,
                        pointer: `${base}/requestBody/content/${escapePointer(mediaType)}/schema` });
        }
      }
      const main = Object.keys(op.responses ?? {}).filter((s) => /^2\d\d$/.test(s)).sort()[0];
      const response = main && op.responses[main];
      for (const [mediaType, media] of Object.entries(response?.content ?? {})) {
        if (isJson(mediaType) && media.schema) {
          places.push({ template, method, where: main, mediaType, node: media,
                        pointer: `${base}/responses/${main}/content/${escapePointer(mediaType)}/schema` });
        }
      }
    }
  }
  return places;
}

// Every `example` under a media type or a schema in the document, with its schema's pointer.
function allExamples(doc) {
  const found = [];
  const walk = (node, pointer) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${pointer}/${i}`));
      return;
    }
    if (!node || typeof node !== 'object') {
      return;
    }
    if ('example' in node && 'schema' in node) {  // a media type object
      found.push({ pointer: `${pointer}/schema`, value: node.example, at: pointer });
    }
    for (const [key, value] of Object.entries(node)) {
      if (key !== 'example' && key !== 'examples') {
        walk(value, `${pointer}/${escapePointer(key)}`);
      }
    }
  };
  walk(doc.paths, '/paths');
  walk(doc.components, '/components');
  return found;
}

export function checkDocument(doc) {
  const problems = [];
  const { schemaAt } = createValidator(doc);
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) {
        continue;
      }
      if (!op.summary?.trim()) {
        problems.push(`${method.toUpperCase()} ${template}: no summary`);
      }
      if (!op.description?.trim()) {
        problems.push(`${method.toUpperCase()} ${template}: no description`);
      }
    }
  }
  for (const place of examplePlaces(doc)) {
    if (!('example' in place.node) && !('examples' in place.node)) {
      problems.push(`${place.method.toUpperCase()} ${place.template}: no example for the ` +
                    `${place.where === 'request' ? 'request body' : `${place.where} answer`}`);
    }
  }
  for (const example of allExamples(doc)) {
    const validate = schemaAt(example.pointer);
    if (!validate(example.value)) {
      problems.push(`${example.at}: the example is not valid: ` +
                    validate.errors.slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`)
                        .join('; '));
    }
  }
  return problems;
}

function shorten(value) {
  if (Array.isArray(value)) {
    return value.slice(0, 2).map(shorten);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v)]));
  }
  return value;
}

// The text of `example:` for a media type whose keys start at `indent` columns.
function exampleText(value, indent) {
  const pad = ' '.repeat(indent);
  const body = YAML.stringify(value, { lineWidth: 0, indent: 2, defaultStringType: 'QUOTE_DOUBLE',
                                      defaultKeyType: 'PLAIN' }).trimEnd();
  if (!body.includes('\n') && !(value && typeof value === 'object' && Object.keys(value).length)) {
    return `${pad}example: ${body}\n`;
  }
  return `${pad}example:\n` + body.split('\n').map((line) => `${pad}  ${line}`).join('\n') + '\n';
}

export function fill(specFile, captures) {
  const text = fs.readFileSync(specFile, 'utf8');
  const doc = YAML.parse(text);
  const { schemaAt, matchOperation } = createValidator(doc);
  const source = YAML.parseDocument(text, { keepSourceTokens: true });
  const inserts = [];  // {offset, text}
  const missing = [];
  for (const place of examplePlaces(doc)) {
    if ('example' in place.node || 'examples' in place.node) {
      continue;
    }
    const validate = schemaAt(place.pointer);
    let chosen;
    for (const capture of captures) {
      if (capture.method !== place.method.toUpperCase() ||
          matchOperation(capture.path, place.method) !== place.template) {
        continue;
      }
      const raw = place.where === 'request' ? capture.request_body : capture.body;
      if (place.where !== 'request' && String(capture.status) !== place.where) {
        continue;
      }
      if (typeof raw !== 'string' || raw.length === 0) {
        continue;
      }
      let value;
      try {
        value = shorten(JSON.parse(raw));
      } catch {
        continue;
      }
      if (validate(value)) {
        chosen = value;
        break;
      }
    }
    if (chosen === undefined) {
      missing.push(`${place.method.toUpperCase()} ${place.template} ${place.where}`);
      continue;
    }
    const keyPath = ['paths', place.template, place.method,
                     ...(place.where === 'request' ? ['requestBody'] : ['responses', place.where]),
                     'content', place.mediaType];
    const mediaNode = source.getIn(keyPath, true);
    if (!mediaNode?.range || !mediaNode.items?.length) {
      missing.push(`${place.method.toUpperCase()} ${place.template} ${place.where} (no block map)`);
      continue;
    }
    const firstKey = mediaNode.items[0].key.range[0];
    const lineStart = text.lastIndexOf('\n', firstKey) + 1;
    const indent = firstKey - lineStart;
    // After the media type's last line.
    let end = mediaNode.range[1];
    end = text.indexOf('\n', end - 1);
    end = end === -1 ? text.length : end + 1;
    inserts.push({ offset: end, text: exampleText(chosen, indent) });
  }
  inserts.sort((a, b) => b.offset - a.offset);
  let out = text;
  for (const insert of inserts) {
    out = out.slice(0, insert.offset) + insert.text + out.slice(insert.offset);
  }
  fs.writeFileSync(specFile, out);
  return { written: inserts.length, missing };
}

function main(argv) {
  let specFile = path.join(repoRoot, 'openapi.yaml');
  let mode = null;
  const inputs = [];
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--spec') {
      specFile = argv[++i];
    } else if (argv[i] === '--check' || argv[i] === '--fill') {
      mode = argv[i];
    } else {
      inputs.push(argv[i]);
    }
  }
  if (mode === '--check') {
    const problems = checkDocument(loadSpec(specFile));
    if (problems.length > 0) {
      console.error(`${problems.length} problems in ${specFile}:\n  ${problems.join('\n  ')}`);
      return 1;
    }
    console.log(`${specFile}: every operation has a summary, a description and examples; ` +
                'every example is valid');
    return 0;
  }
  if (mode === '--fill' && inputs.length > 0) {
    const { captures } = readCaptures(inputs);
    const { written, missing } = fill(specFile, captures);
    console.log(`${written} examples written`);
    if (missing.length > 0) {
      console.log(`no valid captured exchange for:\n  ${missing.join('\n  ')}`);
    }
    return 0;
  }
  console.error('usage: examples.mjs --check [--spec F] | --fill CAPTURES... [--spec F]');
  return 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
