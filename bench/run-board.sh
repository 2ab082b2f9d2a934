#!/usr/bin/env bash
# The deploy board's read path on Azurite: seeds 50 repositories x 3 environments x 90 days through the app's own board
# store, then times the board's data and DORA's four keys. Ends with one JSON line. Options pass through: --repositories N,
# --days N, --per-day N, --reads N (see bench/BoardBench/Program.cs).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
dotnet build bench/BoardBench -c Release -v quiet -nologo
dotnet bench/BoardBench/bin/Release/net10.0/BoardBench.dll "$@"
