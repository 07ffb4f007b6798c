// Checks the ops/ folder against the code it deploys, with what this machine has:
//   node ops/validate.ts
//
//   1. every YAML file parses (js-yaml, installed with the load package; skipped without it) and
//      the Grafana dashboard is valid JSON;
//   2. every metric name the rules, dashboard, autoscalers and runbooks use is defined:
//      offload_* in apps/api/src/metrics.ts or apps/worker/src/metrics.ts, process_* and
//      nodejs_* among prom-client's default metrics (which both files turn on);
//   3. every environment variable the manifests, compose file and env examples set is read by
//      the code (packages/config/src/config.ts, apps/*/src/settings.ts, or a per-kind
//      WORKER_CONCURRENCY_<KIND> of a catalog kind);
//   4. when the tools are installed: `promtool check rules` and `promtool test rules`, the
//      dashboard's queries through promtool, `systemd-analyze verify` of the units,
//      `kubectl kustomize` of ops/kubernetes,
//      `docker-compose config` of the compose file.
// Lists every problem found and exits 1 if there was one; a missing tool is a note, not a failure.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const opsDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(opsDir);
const problems: string[] = [];
const notes: string[] = [];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}
const opsFiles = filesUnder(opsDir);
const read = (file: string): string => readFileSync(file, 'utf8');
const show = (file: string): string => relative(root, file);

// --- 1. parsing -----------------------------------------------------------------------------
interface YamlModule {
  safeLoadAll(text: string, iterator: (doc: unknown) => void): void;
}
let yaml: YamlModule | undefined;
try {
  yaml = createRequire(join(root, 'load', 'package.json'))('js-yaml') as YamlModule;
} catch {
  notes.push('js-yaml is not installed (the load package is not): YAML parsing skipped');
}
const yamlFiles = opsFiles.filter((file) => /\.ya?ml$/.test(file));
if (yaml !== undefined) {
  for (const file of yamlFiles) {
    try {
      yaml.safeLoadAll(read(file), () => {});
    } catch (error) {
      problems.push(`${show(file)}: YAML does not parse: ${(error as Error).message}`);
    }
  }
}
const jsonFiles = opsFiles.filter((file) => file.endsWith('.json'));
for (const file of jsonFiles) {
  try {
    JSON.parse(read(file));
  } catch (error) {
    problems.push(`${show(file)}: JSON does not parse: ${(error as Error).message}`);
  }
}

// --- 2. metric names ------------------------------------------------------------------------
const metricSources = ['apps/api/src/metrics.ts', 'apps/worker/src/metrics.ts'].map((file) =>
  read(join(root, file)),
);
const promClient = createRequire(join(root, 'apps', 'api', 'package.json')).resolve('prom-client');
const defaultMetricsDir = join(dirname(promClient), 'lib', 'metrics');
const defaultMetricSources = readdirSync(defaultMetricsDir)
  .filter((name) => name.endsWith('.js'))
  .map((name) => read(join(defaultMetricsDir, name)));
// Names that look like metrics and are not: the external metric prometheus-adapter serves to
// the HPA (defined in ops), the queue's PostgreSQL schema, database names in backup-restore.md.
const NOT_FROM_CODE = new Set([
  'offload_queue_ready_jobs_total',
  'offload_queue',
  'offload_restored',
  'offload_damaged',
]);
// A metric name, not part of a recording rule's `level:metric:operation` name nor a prefix
// such as `offload_queue_*`.
const METRIC = /(?<![\w:])((?:offload|process|nodejs)_[a-z0-9_]*[a-z0-9])(?![\w:*])/g;
const HISTOGRAM_SUFFIX = /_(bucket|count|sum)$/;
const usedMetrics = new Map<string, Set<string>>();
for (const file of opsFiles.filter((f) => /\.(ya?ml|json|md)$/.test(f))) {
  for (const match of read(file).matchAll(METRIC)) {
    const name = match[1]!;
    if (!usedMetrics.has(name)) usedMetrics.set(name, new Set());
    usedMetrics.get(name)!.add(show(file));
  }
}
const quoted = (name: string) => new RegExp(`['"]${name}['"]`);
for (const [name, files] of [...usedMetrics].sort(([a], [b]) => a.localeCompare(b))) {
  if (NOT_FROM_CODE.has(name)) continue;
  const base = name.replace(HISTOGRAM_SUFFIX, '');
  const sources = name.startsWith('offload_') ? metricSources : defaultMetricSources;
  const defined = sources.some((text) => quoted(name).test(text) || quoted(base).test(text));
  // prom-client's defaults build some names from a prefix: `${namePrefix}process_cpu_seconds_total`.
  const definedWithPrefix = sources.some((text) => text.includes(`}${name}`) || text.includes(`}${base}`));
  if (!defined && !definedWithPrefix)
    problems.push(`metric ${name} is not defined (used in ${[...files].join(', ')})`);
}

// --- 3. environment variables ----------------------------------------------------------------
const configSources = [
  'packages/config/src/config.ts',
  'apps/api/src/settings.ts',
  'apps/worker/src/settings.ts',
].map((file) => read(join(root, file)));
const { jobKindNames } = (await import(join(root, 'packages', 'jobs', 'src', 'index.ts'))) as {
  jobKindNames(): string[];
};
const kindVariables = new Set(
  jobKindNames().map((kind) => `WORKER_CONCURRENCY_${kind.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`),
);
// Read by something other than Offload: the postgres image, the unit's own PATH, and glibc's
// malloc (docs/performance/memory.md).
const NOT_OURS = new Set([
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_DB',
  'PATH',
  'MALLOC_MMAP_THRESHOLD_',
]);
const setVariables = new Map<string, Set<string>>();
const noteVariable = (name: string, file: string) => {
  if (!setVariables.has(name)) setVariables.set(name, new Set());
  setVariables.get(name)!.add(show(file));
};
for (const file of opsFiles) {
  const text = read(file);
  const name = show(file);
  if (/\.env\.example$/.test(file)) {
    for (const match of text.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)) noteVariable(match[1]!, file);
  } else if (name.endsWith('configmap.yaml') || name.endsWith('secret.example.yaml')) {
    for (const match of text.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)) noteVariable(match[1]!, file);
  } else if (name.endsWith('compose.yaml')) {
    for (const match of text.matchAll(/^ {4,6}([A-Z][A-Z0-9_]+):/gm)) noteVariable(match[1]!, file);
  } else if (file.endsWith('.service')) {
    for (const match of text.matchAll(/(?:Environment=|env )([A-Z][A-Z0-9_]+)=/g))
      noteVariable(match[1]!, file);
  }
}
for (const [variable, files] of [...setVariables].sort(([a], [b]) => a.localeCompare(b))) {
  if (NOT_OURS.has(variable) || kindVariables.has(variable)) continue;
  if (/^CACHE_TTL_[A-Z][A-Z0-9_]*_SECONDS$/.test(variable) && variable !== 'CACHE_TTL_SECONDS') continue;
  if (!configSources.some((text) => text.includes(`'${variable}'`))) {
    problems.push(`environment variable ${variable} is read by no code (set in ${[...files].join(', ')})`);
  }
}

// --- 4. external tools, when present --------------------------------------------------------
function tool(command: string, args: string[], cwd = root): void {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (found.status !== 0) {
    notes.push(`${command} not installed: \`${command} ${args.join(' ')}\` skipped`);
    return;
  }
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`.trim();
  if (result.status !== 0) problems.push(`${command} ${args.join(' ')} failed:\n${output}`);
  else notes.push(`${command} ${args.join(' ')}: ok`);
}
tool('promtool', ['check', 'rules', 'ops/prometheus/rules.yml']);
tool('promtool', ['test', 'rules', 'rules.test.yml'], join(opsDir, 'prometheus'));
// The dashboard's queries parse: checked as recording rules, Grafana's variables substituted.
const dashboardDir = mkdtempSync(join(tmpdir(), 'offload-dashboard-'));
try {
  interface Panel {
    targets?: Array<{ expr: string }>;
  }
  const dashboard = JSON.parse(read(join(opsDir, 'grafana', 'offload-dashboard.json'))) as {
    panels: Panel[];
  };
  const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  const rules = queries.map(
    (expr, i) =>
      `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(
        expr.replaceAll('$__rate_interval', '5m').replaceAll('$kind', '.*'),
      )}\n`,
  );
  writeFileSync(
    join(dashboardDir, 'dashboard.yml'),
    `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`,
  );
  tool('promtool', ['check', 'rules', 'dashboard.yml'], dashboardDir);
} finally {
  rmSync(dashboardDir, { recursive: true, force: true });
}
// systemd-analyze resolves a template instance from a file beside it: verify copies.
const unitDir = mkdtempSync(join(tmpdir(), 'offload-units-'));
try {
  const units = readdirSync(join(opsDir, 'systemd')).filter((name) => name.endsWith('.service'));
  for (const unit of units) copyFileSync(join(opsDir, 'systemd', unit), join(unitDir, unit));
  const paths = units.map((unit) => join(unitDir, unit.replace('@.service', '@3001.service')));
  tool('systemd-analyze', ['verify', '--man=no', ...paths]);
} finally {
  rmSync(unitDir, { recursive: true, force: true });
}
tool('kubectl', ['kustomize', 'ops/kubernetes']);
// docker-compose 1.29 validates the compose file against the Compose spec, less the top-level
// `name` (newer than it): check a copy without it, with compose.env made from its example.
const composeDir = mkdtempSync(join(tmpdir(), 'offload-compose-'));
try {
  const compose = read(join(opsDir, 'compose.yaml')).replace(/^name: .*\n/m, '');
  writeFileSync(join(composeDir, 'compose.yaml'), compose);
  copyFileSync(join(opsDir, 'compose.env.example'), join(composeDir, 'compose.env'));
  tool('docker-compose', ['-f', 'compose.yaml', '--profile', 'monitoring', 'config', '--quiet'], composeDir);
} finally {
  rmSync(composeDir, { recursive: true, force: true });
}

for (const note of notes) console.log(`note: ${note}`);
console.log(
  `checked ${yaml === undefined ? 0 : yamlFiles.length} YAML and ${jsonFiles.length} JSON files, ` +
    `${usedMetrics.size} metric names, ${setVariables.size} environment variables`,
);
if (problems.length > 0) {
  for (const problem of problems) console.error(`problem: ${problem}`);
  process.exit(1);
}
console.log('ops: all checks passed');
