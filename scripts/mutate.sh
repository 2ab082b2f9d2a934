#!/usr/bin/env bash
# Mutation testing (Stryker.NET, the repository's local tool) of the decision rooms: Commands, Config, Policy, Board,
# Protection, Maintenance, the report endpoint and secret settings (tests/DeployFunctions.Tests/stryker-config.json).
# A surviving mutant is a line no test would notice breaking. Not in CI: on 2 cores the whole set takes hours, so
#   scripts/mutate.sh --since main     mutates only the files changed since main (what to run before you stop)
#   scripts/mutate.sh                  mutates every decision room
#   scripts/mutate.sh --only "**/src/DeployFunctions/Commands/Commenters.cs"   mutates only the files that glob matches
# (a configuration of its own with only that glob to mutate). Further options go to dotnet-stryker. Stryker compiles
# mutants for every file and reports those outside the list as ignored: its "mutants created" count is the whole app.
# The report lands in tests/DeployFunctions.Tests/StrykerOutput/<time>/reports/ (html and json).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

since=()
if [ "${1:-}" = "--since" ]; then
  since=("--since:${2:?--since needs a git ref, e.g. main}")
  shift 2
fi

config="stryker-config.json"
if [ "${1:-}" = "--only" ]; then
  only="${2:?--only needs a glob, e.g. **/src/DeployFunctions/Commands/Commenters.cs}"
  shift 2
  config="stryker-only.json"
  ONLY="$only" node -e '
    const fs = require("fs");
    const c = JSON.parse(fs.readFileSync("tests/DeployFunctions.Tests/stryker-config.json", "utf8"));
    c["stryker-config"].mutate = [process.env.ONLY];
    fs.writeFileSync("tests/DeployFunctions.Tests/stryker-only.json", JSON.stringify(c, null, 2));'
fi

[ -x node_modules/.bin/azurite ] || npm ci --no-audit --no-fund --loglevel=error
dotnet tool restore >/dev/null
cd tests/DeployFunctions.Tests
exec dotnet stryker --config-file "$config" "${since[@]}" "$@"
