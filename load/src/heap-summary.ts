// Summarises a V8 heap snapshot (`.heapsnapshot`, as written by `node --heapsnapshot-signal=SIGUSR2`
// or v8.writeHeapSnapshot): the heap's self size by node type (code, strings, objects, arrays,
// system), and the biggest groups by constructor name, with counts, so a memory report can say
// where the heap goes without opening DevTools.
//
//   node load/src/heap-summary.ts FILE.heapsnapshot [--top N]
import { readFileSync } from 'node:fs';

interface SnapshotMeta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
}

interface Snapshot {
  snapshot: { meta: SnapshotMeta; node_count: number };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  type: string;
  name: string;
  count: number;
  bytes: number;
}

export interface HeapSummary {
  totalBytes: number;
  nodes: number;
  byType: HeapGroup[];
  byConstructor: HeapGroup[];
}

export function summariseHeap(snapshot: Snapshot, top = 25): HeapSummary {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byType = new Map<string, HeapGroup>();
  const byName = new Map<string, HeapGroup>();
  const nodes = snapshot.nodes;
  let totalBytes = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt] ?? 0] ?? 'unknown';
    const size = nodes[i + sizeAt] ?? 0;
    totalBytes += size;
    add(byType, type, type, size);
    // Strings and numbers are named by their value: group them by type only.
    const name = groupName(type, snapshot.strings[nodes[i + nameAt] ?? 0] ?? '');
    add(byName, `${type}\u0000${name}`, name, size, type);
  }
  const sorted = (map: Map<string, HeapGroup>) => [...map.values()].sort((a, b) => b.bytes - a.bytes);
  return {
    totalBytes,
    nodes: nodes.length / width,
    byType: sorted(byType),
    byConstructor: sorted(byName).slice(0, top),
  };
}

function groupName(type: string, name: string): string {
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return '(strings)';
  if (type === 'number') return '(numbers)';
  if (type === 'code') return name.startsWith('(') ? name : '(code)';
  if (type === 'closure') return '(closures)';
  if (type === 'regexp') return '(regexps)';
  // Arrays' and system nodes' names are long descriptions; keep their first words.
  return name.length > 60 ? `${name.slice(0, 57)}...` : name;
}

function add(map: Map<string, HeapGroup>, key: string, name: string, size: number, type = name): void {
  const group = map.get(key);
  if (group === undefined) map.set(key, { type, name, count: 1, bytes: size });
  else {
    group.count += 1;
    group.bytes += size;
  }
}

export function formatHeapSummary(summary: HeapSummary, title: string): string {
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
  const lines = [
    `### ${title}`,
    '',
    `${summary.nodes.toLocaleString('en')} nodes, ${mb(summary.totalBytes)} MB self size in total.`,
    '',
    '| node type | count | MB |',
    '|---|---:|---:|',
    ...summary.byType.map((g) => `| ${g.type} | ${g.count.toLocaleString('en')} | ${mb(g.bytes)} |`),
    '',
    '| constructor / group | type | count | MB |',
    '|---|---|---:|---:|',
    ...summary.byConstructor.map(
      (g) =>
        `| ${g.name.replaceAll('|', '\\|')} | ${g.type} | ${g.count.toLocaleString('en')} | ${mb(g.bytes)} |`,
    ),
  ];
  return lines.join('\n');
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const file = args.find((arg) => !arg.startsWith('--'));
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  if (file === undefined) {
    process.stderr.write('usage: node load/src/heap-summary.ts FILE.heapsnapshot [--top N]\n');
    process.exit(2);
  }
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  process.stdout.write(`${formatHeapSummary(summariseHeap(snapshot, top), file)}\n`);
}
