// Writes each service's own OpenAPI document from the one source, openapi.yaml.
//
//   node tests/contract/service-specs.mjs [--spec openapi.yaml] --out DIR
//
// writes DIR/events-api.json and DIR/ballot.json. openapi.yaml describes both services: a path
// served by the ballot lists the ballot's server in its own `servers`, a path on both lists
// both, and every other path is the events API's (the top-level `servers`). Generators ignore
// per-path `servers`, so a client generated from the whole document would send ballot calls to
// the events API; each document written here holds only its service's paths, that service's
// server at the top, and the components those paths reach (nothing else).
//
// The written documents are generator-ready:
// - a schema written as `allOf` of object schemas is merged into one object schema
//   (properties, required, additionalProperties of all parts), so that generators which turn
//   a property-less part into `Record<string, never>` (openapi-typescript) see one object;
// - a `default` inside a schema that only request bodies reach is moved into the description
//   ("Default: ..."), because openapi-typescript makes a property with a default required,
//   and a client need not send what the server defaults.
// The contract test validates responses against openapi.yaml itself; the TypeScript client
// test (tests/contract/ts-client/) generates its types from these documents.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const require = createRequire(path.join(repoRoot, 'tools', 'package.json'));
const YAML = require('yaml');

export const SERVICES = {
  'events-api': { port: '8080', title: 'civic-platform events API' },
  ballot: { port: '8081', title: 'civic-platform ballot' },
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

// The services a path item is served by, from its `servers` (see the header).
export function servicesOf(pathItem) {
  if (!Array.isArray(pathItem.servers) || pathItem.servers.length === 0) {
    return ['events-api'];
  }
  const found = [];
  for (const [name, { port }] of Object.entries(SERVICES)) {
    if (pathItem.servers.some((server) => new URL(server.url).port === port)) {
      found.push(name);
    }
  }
  if (found.length === 0) {
    throw new Error(`a path's servers name no known service: ${JSON.stringify(pathItem.servers)}`);
  }
  return found;
}

function refTarget(ref) {
  const match = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
  return match ? { section: match[1], name: match[2].replace(/~1/g, '/').replace(/~0/g, '~') } : null;
}

// Every `#/components/...` reached from `roots`, as "section/name".
function reachable(doc, roots) {
  const seen = new Set();
  const stack = [...roots];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          const target = refTarget(value);
          if (target && !seen.has(`${target.section}/${target.name}`)) {
            seen.add(`${target.section}/${target.name}`);
            const component = doc.components?.[target.section]?.[target.name];
            if (component === undefined) {
              throw new Error(`unresolved $ref ${value}`);
            }
            stack.push(component);
          }
        } else {
          stack.push(value);
        }
      }
    }
  }
  return seen;
}

function resolveSchema(doc, schema) {
  let node = schema;
  const seen = new Set();
  while (node && typeof node.$ref === 'string') {
    if (seen.has(node.$ref)) {
      throw new Error(`$ref cycle at ${node.$ref}`);
    }
    seen.add(node.$ref);
    const target = refTarget(node.$ref);
    node = target ? doc.components?.[target.section]?.[target.name] : undefined;
  }
  return node;
}

const MERGEABLE = new Set(['type', 'properties', 'required', 'description', 'additionalProperties',
                           'title', 'allOf', 'examples', 'example']);

// One object schema for an `allOf` whose parts are all object schemas with nothing but
// mergeable keywords; otherwise the schema unchanged.
export function flattenAllOf(doc, schema) {
  if (!schema || !Array.isArray(schema.allOf)) {
    return schema;
  }
  const parts = [];
  const collect = (part) => {
    const resolved = resolveSchema(doc, part);
    if (!resolved || typeof resolved !== 'object') {
      return false;
    }
    if (Object.keys(resolved).some((key) => !MERGEABLE.has(key))) {
      return false;
    }
    if (resolved.type !== undefined && resolved.type !== 'object') {
      return false;
    }
    if (Array.isArray(resolved.allOf)) {
      if (!resolved.allOf.every(collect)) {
        return false;
      }
    }
    parts.push(resolved);
    return true;
  };
  if (!schema.allOf.every(collect)) {
    return schema;
  }
  const merged = { type: 'object', properties: {} };
  const required = new Set();
  for (const part of parts) {
    Object.assign(merged.properties, clone(part.properties ?? {}));
    for (const name of part.required ?? []) {
      required.add(name);
    }
    if (part.additionalProperties !== undefined) {
      merged.additionalProperties = clone(part.additionalProperties);
    }
  }
  for (const [key, value] of Object.entries(schema)) {
    if (key !== 'allOf') {
      merged[key] = clone(value);
    }
  }
  if (required.size > 0) {
    merged.required = [...required];
  }
  if (Object.keys(merged.properties).length === 0) {
    delete merged.properties;
  }
  return merged;
}

// Applies flattenAllOf to every schema inside `node` (components and inline ones).
function flattenEverywhere(doc, node) {
  if (Array.isArray(node)) {
    return node.map((item) => flattenEverywhere(doc, item));
  }
  if (!node || typeof node !== 'object') {
    return node;
  }
  const flat = Array.isArray(node.allOf) ? flattenAllOf(doc, node) : node;
  const out = {};
  for (const [key, value] of Object.entries(flat)) {
    out[key] = flattenEverywhere(doc, value);
  }
  return out;
}

function collectRefs(node, into) {
  if (Array.isArray(node)) {
    node.forEach((item) => collectRefs(item, into));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        into.add(value);
      } else {
        collectRefs(value, into);
      }
    }
  }
}

// Moves `default` into the description in schemas reached only from request bodies.
function relaxRequestDefaults(doc) {
  const requestRoots = [];
  const responseRoots = [];
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) {
        continue;
      }
      if (op.requestBody) {
        requestRoots.push(op.requestBody);
      }
      responseRoots.push(op.responses ?? {}, op.parameters ?? []);
    }
    responseRoots.push(item.parameters ?? []);
  }
  const inRequests = reachable(doc, requestRoots);
  const inResponses = reachable(doc, responseRoots);
  const relax = (schema) => {
    if (Array.isArray(schema)) {
      schema.forEach(relax);
      return;
    }
    if (!schema || typeof schema !== 'object') {
      return;
    }
    if ('default' in schema && !('$ref' in schema)) {
      const note = `Default: \`${JSON.stringify(schema.default)}\`.`;
      schema.description = schema.description ? `${schema.description.trimEnd()} ${note}` : note;
      delete schema.default;
    }
    for (const [key, value] of Object.entries(schema)) {
      if (key !== 'examples' && key !== 'example') {
        relax(value);
      }
    }
  };
  for (const key of inRequests) {
    if (inResponses.has(key)) {
      continue;
    }
    const [section, name] = key.split('/');
    if (section === 'schemas' || section === 'requestBodies') {
      relax(doc.components[section][name]);
    }
  }
  // Inline request body schemas.
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const content = item[method]?.requestBody?.content;
      for (const media of Object.values(content ?? {})) {
        if (media.schema && !media.schema.$ref) {
          relax(media.schema);
        }
      }
    }
  }
}

// The document of one service.
export function serviceDocument(source, service) {
  const doc = clone(source);
  const { port, title } = SERVICES[service];
  const paths = {};
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    if (!servicesOf(item).includes(service)) {
      continue;
    }
    const own = { ...item };
    delete own.servers;
    paths[template] = own;
  }
  doc.paths = paths;
  doc.info = { ...doc.info, title };
  doc.servers = [{ url: `http://127.0.0.1:${port}`, description: `${service} (local default)` }];
  // Components: only those the paths (and the security requirements) reach.
  const keep = reachable(doc, [paths]);
  for (const [section, entries] of Object.entries(doc.components ?? {})) {
    if (section === 'securitySchemes') {
      continue;
    }
    for (const name of Object.keys(entries)) {
      if (!keep.has(`${section}/${name}`)) {
        delete entries[name];
      }
    }
  }
  const usedSchemes = new Set();
  for (const requirement of [...(doc.security ?? []),
                             ...Object.values(paths).flatMap((item) => METHODS.flatMap(
                                 (method) => item[method]?.security ?? []))]) {
    Object.keys(requirement).forEach((name) => usedSchemes.add(name));
  }
  for (const name of Object.keys(doc.components?.securitySchemes ?? {})) {
    if (!usedSchemes.has(name)) {
      delete doc.components.securitySchemes[name];
    }
  }
  if (Array.isArray(doc.security)) {
    doc.security = doc.security.filter((requirement) =>
      Object.keys(requirement).every((name) => usedSchemes.has(name) &&
                                               doc.components.securitySchemes?.[name]));
  }
  const usedTags = new Set(Object.values(paths).flatMap(
      (item) => METHODS.flatMap((method) => item[method]?.tags ?? [])));
  doc.tags = (doc.tags ?? []).filter((tag) => usedTags.has(tag.name));
  doc.components = flattenEverywhere(doc, doc.components);
  doc.paths = flattenEverywhere(doc, doc.paths);
  relaxRequestDefaults(doc);
  // No $ref may dangle after pruning.
  const refs = new Set();
  collectRefs(doc, refs);
  for (const ref of refs) {
    const target = refTarget(ref);
    if (target && doc.components?.[target.section]?.[target.name] === undefined) {
      throw new Error(`${service}: $ref ${ref} dangles after splitting`);
    }
  }
  return doc;
}

function main(argv) {
  let spec = path.join(repoRoot, 'openapi.yaml');
  let out = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--spec') {
      spec = argv[++i];
    } else if (argv[i] === '--out') {
      out = argv[++i];
    } else {
      console.error(`service-specs: unknown argument ${argv[i]}`);
      process.exit(2);
    }
  }
  if (!out) {
    console.error('usage: service-specs.mjs [--spec openapi.yaml] --out DIR');
    process.exit(2);
  }
  const source = YAML.parse(fs.readFileSync(spec, 'utf8'));
  fs.mkdirSync(out, { recursive: true });
  for (const service of Object.keys(SERVICES)) {
    const doc = serviceDocument(source, service);
    const file = path.join(out, `${service}.json`);
    fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
    console.log(`${file}: ${Object.keys(doc.paths).length} paths, ` +
                `${Object.keys(doc.components?.schemas ?? {}).length} schemas`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
