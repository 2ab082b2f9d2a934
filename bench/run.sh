#!/usr/bin/env bash
# The ingress benchmark: installs the pinned @octokit/webhooks, builds in Release, and runs one measurement that ends
# with one JSON line. Options pass through: --seconds N (per round, default 2), --rounds N (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix bench/node --no-audit --no-fund --loglevel=error
dotnet build bench/DeployFunctions.Bench -c Release -v quiet -nologo
dotnet bench/DeployFunctions.Bench/bin/Release/net10.0/DeployFunctions.Bench.dll "$@"
