#!/usr/bin/env bash
# Benchmarks firegate and writes bench/RESULTS.md: cold start, warm login latency, throughput,
# signing against OpenSSL, memory, binary and image size. One command, rerunnable:
#
#   scripts/bench.sh                     # about 6 minutes after the build
#   scripts/bench.sh --wait-idle 900     # first wait up to 15 min for a quiet machine
#
# Needs Rust, Python 3.11, Java 17+, the Firestore emulator (Debian package
# google-cloud-cli-firestore-emulator, or FIREGATE_FIRESTORE_EMULATOR_JAR), openssl and wrk;
# wrk is installed with apt-get when missing. The emulator is started on a free port and
# stopped on exit. Other options: --cold-runs N, --seconds S (length of each wrk run),
# --no-musl (skip the static musl build and the image comparison; building it needs the
# x86_64-unknown-linux-musl target, added with rustup, and musl-gcc, from Debian's musl-tools).
set -euo pipefail

cd "$(dirname "$0")/.."

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required: $2" >&2; exit 1; }
}
need cargo "install Rust (https://rustup.rs)"
need python3 "install Python 3.11+"
need java "install Java 17+ (Debian: apt-get install openjdk-17-jre-headless)"
need openssl "apt-get install openssl"
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing wrk (apt-get install wrk)" >&2
        apt-get install -y -qq wrk >/dev/null 2>&1 ||
            { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    fi
    need wrk "apt-get install wrk (as root)"
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/firegate-bench-XXXXXX")
pidfile="$workdir/emulator.pid"
cleanup() {
    # The driver stops the emulator itself; this covers a driver that was killed outright.
    if [ -s "$pidfile" ]; then
        kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

musl=yes
for arg in "$@"; do
    if [ "$arg" = --no-musl ]; then musl=no; fi
done
MUSL_TARGET=x86_64-unknown-linux-musl
if [ "$musl" = yes ]; then
    targets=$(rustup target list --installed 2>/dev/null || true)
    if command -v rustup >/dev/null 2>&1 && ! grep -qx "$MUSL_TARGET" <<<"$targets"; then
        echo "adding the $MUSL_TARGET target (rustup target add)" >&2
        rustup target add "$MUSL_TARGET" >&2 || musl=no
    fi
    if ! command -v musl-gcc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing musl-gcc (apt-get install musl-tools)" >&2
        apt-get install -y -qq musl-tools >/dev/null 2>&1 ||
            { apt-get update -qq && apt-get install -y -qq musl-tools >/dev/null; } || musl=no
    fi
    command -v musl-gcc >/dev/null 2>&1 || musl=no
    [ "$musl" = yes ] || echo "warning: cannot build for $MUSL_TARGET (needs rustup's target and" \
        "musl-gcc from musl-tools): the image comparison is left out" >&2
fi

echo "building: cargo build --release --bin firegate; cargo bench --no-run" >&2
cargo build --release --bin firegate
cargo bench --no-run --bench hashes --bench signing --message-format=json-render-diagnostics \
    >"$workdir/bench-build.json"

# Measure copies, so a rebuild of the working tree during the run cannot change what runs.
mkdir -p "$workdir/bin"
cp target/release/firegate "$workdir/bin/firegate"
if [ "$musl" = yes ]; then
    echo "building: cargo build --release --target $MUSL_TARGET --bin firegate" >&2
    if cargo build --release --target "$MUSL_TARGET" --bin firegate; then
        cp "target/$MUSL_TARGET/release/firegate" "$workdir/bin/firegate-musl"
    else
        echo "warning: the static musl build failed: the image comparison is left out" >&2
    fi
fi
python3 - "$workdir" <<'PY'
import json, shutil, sys
workdir = sys.argv[1]
for line in open(f"{workdir}/bench-build.json"):
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") \
            and message["target"]["name"] in ("hashes", "signing"):
        shutil.copy(message["executable"], f"{workdir}/bin/bench-{message['target']['name']}")
PY

python3 scripts/bench/run.py --workdir "$workdir" --pidfile "$pidfile" --bin "$workdir/bin" \
    --command "scripts/bench.sh${*:+ $*}" "$@"
