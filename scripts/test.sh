#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the pinned npm tools (Azurite, GitHub's webhook examples),
# restores, builds in Release with warnings as errors, and runs the test suite. Tests start their own Azurite.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "error: '$1' is not installed. $2" >&2
    exit 1
  fi
}
need dotnet "Install the .NET 10 SDK: https://dotnet.microsoft.com/download/dotnet/10.0"
need node "Install Node.js 20 or later: https://nodejs.org/"
need npm "Install Node.js 20 or later (it ships npm): https://nodejs.org/"

npm ci --no-audit --no-fund --loglevel=error
dotnet restore DeployFunctions.sln
dotnet build DeployFunctions.sln --no-restore -c Release
rm -rf TestResults
status=0
dotnet test DeployFunctions.sln --no-build -c Release --logger "console;verbosity=normal" \
  --logger "trx;LogFileName=results.trx" --results-directory TestResults "$@" || status=$?

# One plain closing line, read from the test results.
counters="$(grep -ho '<Counters [^>]*>' TestResults/*.trx 2>/dev/null | head -n 1 || true)"
passed="$(printf '%s' "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')"
failed="$(printf '%s' "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
