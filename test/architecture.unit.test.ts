// The shape of src/ (DESIGN.md §8): no import circles, type-only imports included
// (the lint's import-x/no-cycle sees value imports only), and imports go one way:
// http/cli → application → domain; no route file imports another.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/** Every non-test TypeScript file of src/, with the src/ files it imports. */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(src, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.testing.ts'));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(src, file), 'utf8');
    const imports = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((i) => i.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(src, resolve(src, dirname(file), name)).replace(/\.js$/, '.ts'));
    graph.set(file, imports);
  }
  return graph;
}

/** Strongly connected components of more than one file, or a file importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next))
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (;;) {
      const member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** The imports of files under `from` that land under one of `forbidden`. */
function crossings(graph: Map<string, string[]>, from: string, forbidden: string[]): string[] {
  const out: string[] = [];
  for (const [file, imports] of graph)
    if (file.startsWith(from))
      for (const target of imports)
        if (forbidden.some((f) => target.startsWith(f))) out.push(`${file} → ${target}`);
  return out;
}

describe('architecture of src/', () => {
  const graph = importGraph();

  it('reads the import graph', () => {
    assert.ok(graph.size > 50, `only ${graph.size} files read`);
    assert.ok(graph.get('http/app.ts')?.includes('http/deps.ts'));
  });

  it('finds a circle when there is one (self-check)', () => {
    const withCircle = new Map(graph);
    withCircle.set('http/deps.ts', [...(graph.get('http/deps.ts') ?? []), 'http/app.ts']);
    assert.ok(cycles(withCircle).some((c) => c.includes('http/app.ts')));
  });

  it('has no import circles, type-only imports included', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('keeps the domain free of application, adapters and HTTP', () => {
    assert.deepEqual(
      crossings(graph, 'domain/', ['application/', 'http/', 'cli/', 'eventStore/', 'ingest/']),
      [],
    );
  });

  it('keeps the application free of HTTP and the CLI', () => {
    assert.deepEqual(crossings(graph, 'application/', ['http/', 'cli/']), []);
  });

  it('has no route file importing another', () => {
    assert.deepEqual(crossings(graph, 'http/routes/', ['http/routes/']), []);
  });
});
