#!/bin/sh
# The image's entry point: maps its command to the TypeScript entry point that
# scripts/toolchain.cjs runs for the npm script of the same name (TASKS there), and execs Node.js
# so that it is PID 1 and receives SIGTERM itself (both apps drain on the first SIGTERM and exit
# at once on a second one). The toolchain wrapper is not used in the image: dependencies are
# installed at build time and nothing is provisioned at run time.
set -eu
task="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$task" in
  api) exec node apps/api/src/main.ts "$@" ;;
  worker) exec node apps/worker/src/main.ts "$@" ;;
  migrate) exec node packages/db/src/migrate-cli.ts "$@" ;;
  keys) exec node apps/api/src/keys-cli.ts "$@" ;;
  seed) exec node packages/db/src/seed/cli.ts "$@" ;;
  *)
    echo "usage: offload api | worker | migrate [latest|rollback-all] | keys <create|list|revoke> ... | seed --models N" >&2
    exit 64
    ;;
esac
