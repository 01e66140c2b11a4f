// Every route the prose names ("GET /v1/…" in README.md, docs/, deploy/ and proto-docs/) is one
// that openapi.yaml declares, with that method: a runbook must not send an operator to a route
// that does not exist. Path parameters match any segment; the query string is left aside.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const require = createRequire(path.join(root, 'tools/package.json'));
const YAML = require('yaml');

const spec = YAML.parse(fs.readFileSync(path.join(root, 'openapi.yaml'), 'utf8'));
const templates = Object.entries(spec.paths).map(([template, item]) => ({
  segments: template.split('/'),
  methods: new Set(Object.keys(item).map((m) => m.toUpperCase())),
}));

function declared(method, route) {
  const segments = route.split('/');
  return templates.some(
    (t) =>
      t.methods.has(method === 'HEAD' ? 'GET' : method) &&
      t.segments.length === segments.length &&
      t.segments.every((s, i) => s === segments[i] || (s.startsWith('{') && s.endsWith('}'))),
  );
}

function files() {
  const out = ['README.md'];
  for (const dir of ['docs', 'deploy', 'proto-docs']) {
    const walk = (d) => {
      for (const entry of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
        const rel = path.join(d, entry.name);
        if (entry.isDirectory()) {
          walk(rel);
        } else if (/\.(md|yml|yaml)$/.test(entry.name)) {
          out.push(rel);
        }
      }
    };
    walk(dir);
  }
  return out;
}

const problems = [];
let checked = 0;
for (const file of files()) {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  lines.forEach((line, index) => {
    for (const m of line.matchAll(/\b(GET|HEAD|POST|PUT|PATCH|DELETE) (\/v1\/[^\s`'",;)?#]*)/g)) {
      const route = m[2].replace(/[.:]+$/, '');
      ++checked;
      if (!declared(m[1], route)) {
        problems.push(`${file}:${index + 1}: ${m[1]} ${route} is not in openapi.yaml`);
      }
    }
  });
}
if (problems.length > 0) {
  console.log(problems.join('\n'));
  process.exit(1);
}
console.log(`${checked} routes named in the prose are all in openapi.yaml`);
