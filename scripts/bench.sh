#!/usr/bin/env bash
# Benchmarks firegate: builds the release binary, the criterion benches and the Google and verify-hook stand-ins,
# then runs the driver (bench/run.py), which writes bench/RESULTS.md and bench/results.json and
# rewrites the tables between the <!-- bench:… --> markers of docs/src/benchmarks.md.
#
#   scripts/bench.sh              # about 10 minutes after the build
#   scripts/bench.sh --no-peers   # without the Python and Node.js peers (bench/peers/)
#
# Needs Rust, Python 3.11+, Java 17+ (the Firestore emulator, started by `firegate emulator`)
# and openssl; the peers need network access once to install (pip, npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo python3 java openssl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required (see docs/src/benchmarks.md)" >&2; exit 1; }
done
cargo build --release --bin firegate --example google_standin --example hook_standin
cargo bench --no-run --bench hashes --bench signing
# Measure a copy, so a rebuild of the working tree during the run cannot change what runs.
bin=$(mktemp -d "${TMPDIR:-/tmp}/firegate-bench-bin-XXXXXX")
trap 'rm -rf "$bin"' EXIT
cp target/release/firegate "$bin/firegate"
python3 bench/run.py --bin "$bin/firegate" "$@"
