#!/usr/bin/env node
// The front door behind `npm start`, `npm test` and the other root scripts.
//
// It must run on whatever Node.js the machine has (even an end-of-life one), so it is
// plain CommonJS with no dependencies. In order it:
//   1. provisions the pinned Node.js and pnpm into .toolchain/ when the system's are older
//      (from the npm registry, which serves both as packages);
//   2. installs the workspace from the lockfile when the lockfile or a manifest changed since
//      the last install (a stamp file remembers), so a second run starts in seconds;
//   3. runs the task under the pinned Node.js, forwarding signals and the exit code.
'use strict';

const { spawnSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const NODE_VERSION = '24.21.0';
const PNPM_VERSION = '10.34.9';
const MIN_NODE_MAJOR = 24;

const root = path.resolve(__dirname, '..');
const toolchainDir = path.join(root, '.toolchain');
const binDir = path.join(toolchainDir, 'node_modules', '.bin');

// Each task is a TypeScript entry point run by the pinned Node.js, with its fixed arguments.
const TASKS = {
  start: ['scripts/start.ts'],
  test: ['scripts/test.ts'],
  api: ['apps/api/src/main.ts'],
  worker: ['apps/worker/src/main.ts'],
  seed: ['packages/db/src/seed/cli.ts'],
  migrate: ['packages/db/src/migrate-cli.ts'],
  bench: ['scripts/bench.ts'],
  load: ['load/src/run.ts'],
  // The load package's own suites, and the ops/ checks (js-yaml comes with the load package).
  'load-test': ['node_modules/vitest/vitest.mjs', 'run', '--config', 'load/vitest.config.ts'],
  'ops-check': ['ops/validate.ts'],
  'example-client': ['scripts/client-example.ts'],
  keys: ['apps/api/src/keys-cli.ts'],
  // Moving data between SQLite and PostgreSQL, and profiling the hot queries (scripts/db.ts).
  db: ['scripts/db.ts'],
  // CI only: `db analyze` on a throwaway seeded database of each dialect (.ci/run).
  'ci-analyze': ['scripts/ci-analyze.ts'],
  jobs: ['apps/api/src/jobs-cli.ts'],
  setup: null, // provision and install only
};

function log(message) {
  process.stderr.write(`[toolchain] ${message}\n`);
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function systemNodeIsRecent() {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= MIN_NODE_MAJOR;
}

// The provisioned Node.js running this script again (a root script started from a provisioned
// environment) must keep itself: it is recent, but the system's is not.
function runningProvisionedNode() {
  return path.relative(toolchainDir, process.execPath).split(path.sep)[0] === 'node_modules';
}

// Returns the environment every later step runs with.
function provisionToolchain() {
  const wantNode = !systemNodeIsRecent() || runningProvisionedNode();
  const manifest = {
    name: 'offload-toolchain',
    private: true,
    dependencies: wantNode ? { node: NODE_VERSION, pnpm: PNPM_VERSION } : { pnpm: PNPM_VERSION },
  };
  const manifestFile = path.join(toolchainDir, 'package.json');
  const stampFile = path.join(toolchainDir, 'installed.json');
  const stamp = readJson(stampFile);
  const wanted = JSON.stringify(manifest.dependencies);
  if (!stamp || JSON.stringify(stamp) !== wanted || !fs.existsSync(path.join(binDir, 'pnpm'))) {
    log(
      wantNode
        ? `system Node.js ${process.versions.node} is older than ${MIN_NODE_MAJOR}: provisioning Node.js ${NODE_VERSION} and pnpm ${PNPM_VERSION}`
        : `provisioning pnpm ${PNPM_VERSION}`,
    );
    fs.mkdirSync(toolchainDir, { recursive: true });
    fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', toolchainDir], {
      cwd: toolchainDir,
    });
    fs.writeFileSync(stampFile, wanted);
  }

  const env = { ...process.env };
  // The pinned tools first, then the workspace's own binaries (tsc, biome, vitest).
  env.PATH = [binDir, path.join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(path.delimiter);
  if (wantNode) {
    // Native addons that must compile need the headers of the Node.js that will load them,
    // not those a user-level npmrc may point at.
    env.npm_config_nodedir = path.join(
      toolchainDir,
      'node_modules',
      'node',
      'node_modules',
      `node-${process.platform}-${process.arch}`,
    );
  }
  env.npm_config_update_notifier = 'false';
  // glibc's malloc raises its mmap threshold to the largest block freed (up to 32 MiB), after
  // which SQLite's and V8's large buffers come from the brk heap and stay resident when freed;
  // a fixed threshold returns them. RSS of the API and the worker on SQLite −13 MB each
  // (docs/performance/memory.md). The image (ops/docker/Dockerfile) and the systemd units set it too.
  env.MALLOC_MMAP_THRESHOLD_ ??= '131072';
  return { env, node: wantNode ? path.join(binDir, 'node') : process.execPath };
}

function installFingerprint() {
  const hash = crypto.createHash('sha256');
  const files = ['pnpm-lock.yaml', 'package.json', 'pnpm-workspace.yaml'];
  for (const group of ['apps', 'packages']) {
    const dir = path.join(root, group);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) files.push(path.join(group, name, 'package.json'));
  }
  files.push(path.join('load', 'package.json'));
  for (const file of files) {
    const full = path.join(root, file);
    hash.update(file);
    hash.update(fs.existsSync(full) ? fs.readFileSync(full) : '');
  }
  hash.update(process.env.OFFLOAD_WITH_LOAD ?? '');
  return hash.digest('hex');
}

function installDependencies(env) {
  const stampFile = path.join(root, 'node_modules', '.offload-install');
  const fingerprint = installFingerprint();
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === fingerprint) return;
  log('installing dependencies from the lockfile');
  const args = ['install', '--frozen-lockfile', '--config.confirmModulesPurge=false'];
  // Artillery (the load package) weighs hundreds of MB: only `npm run load` installs it.
  if (!process.env.OFFLOAD_WITH_LOAD) args.push('--filter', '!@offload/load');
  run(path.join(binDir, 'pnpm'), args, { cwd: root, env });
  fs.writeFileSync(stampFile, fingerprint);
}

function main() {
  const [task, ...extra] = process.argv.slice(2);
  if (!task || !(task in TASKS)) {
    log(`usage: toolchain.cjs <${Object.keys(TASKS).join('|')}> [args...]`);
    process.exit(2);
  }
  if (task === 'load' || task === 'load-test' || task === 'ops-check') process.env.OFFLOAD_WITH_LOAD = '1';
  const { env, node } = provisionToolchain();
  installDependencies(env);
  // The operator console's static files, which the API serves (skipped when already current).
  if (task === 'setup' || task === 'start') run(node, ['scripts/console-build.ts'], { cwd: root, env });
  const entry = TASKS[task];
  if (!entry) return;

  const child = spawn(node, [...entry, ...extra], { cwd: root, env, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  // `npm start` runs us through `sh -c`, and a SIGTERM sent to npm reaches only that shell, which
  // dies without passing it on. Treat losing our parent as the same request to stop.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphanWatch);
    child.kill('SIGTERM');
  }, 250);
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal ? 128 + (require('node:os').constants.signals[signal] ?? 1) : 1));
  });
}

try {
  main();
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
