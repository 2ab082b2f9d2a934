#!/usr/bin/env bash
# The host benchmark: cold start of the real worker (as built and ReadyToRun, beside a minimal isolated app) and
# end-to-end merge latency through the WebJobs queue listener, under the host harness. Ends with one JSON line.
# Options pass through: --starts N (fresh starts per variant, default 10), --merges N (default 100), and --org for an
# organization's load instead (100 repositories, 500 merges and 200 commands over a minute, one worker process then two,
# GitHub's limits scaled down; exits non-zero when an invariant breaks; see bench/HostBench/OrgLoad.cs), or --previews
# [--pushes N] for preview environments (push -> deployment created -> comment live; close -> removed; PreviewLoad.cs).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
rid="linux-x64"
[ "$(uname -m)" = "aarch64" ] && rid="linux-arm64"
out="bench/out"
rm -rf "$out"
dotnet build src/DeployFunctions -c Release -v quiet -nologo
dotnet build bench/MinimalFunctionApp -c Release -v quiet -nologo
dotnet publish src/DeployFunctions -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$out/app-r2r" -v quiet -nologo
dotnet publish bench/MinimalFunctionApp -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$out/minimal-r2r" -v quiet -nologo
dotnet build bench/HostBench -c Release -v quiet -nologo
dotnet bench/HostBench/bin/Release/net10.0/HostBench.dll \
  --variants "app=$PWD/src/DeployFunctions/bin/Release/net10.0,app-r2r=$PWD/$out/app-r2r,minimal=$PWD/bench/MinimalFunctionApp/bin/Release/net10.0,minimal-r2r=$PWD/$out/minimal-r2r" \
  "$@"
