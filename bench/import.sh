#!/usr/bin/env bash
# Benchmarks `firegate import`: for each size, generates a CSV of Werkzeug-hashed accounts
# (username + email, so three documents per account), starts a fresh Firestore emulator,
# warms it up with a throwaway import of 100,000 rows (the emulator's JIT needs it), imports
# the file and prints the time, documents per second and the importer's peak RSS, then
# imports the same file again (everything already present) and prints that time too.
#
#   bench/import.sh                 # 100,000 and 1,000,000 rows
#   bench/import.sh 100000          # one size
#   EMULATOR_HEAP=16g bench/import.sh 1000000
#
# Needs Java 17+ and the emulator jar (Debian: google-cloud-cli-firestore-emulator).
set -euo pipefail

cd "$(dirname "$0")/.."
if (($#)); then SIZES=("$@"); else SIZES=(100000 1000000); fi
JAR=${FIREGATE_FIRESTORE_EMULATOR_JAR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar}
HEAP=${EMULATOR_HEAP:-}
CONCURRENCY=${CONCURRENCY:-4}
WORK=$(mktemp -d)
EMULATOR_PID=

cleanup() {
    if [[ -n $EMULATOR_PID ]]; then
        kill "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

[[ -f $JAR ]] || { echo "no Firestore emulator jar at $JAR" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }

cargo build --release --quiet
FIREGATE=$PWD/target/release/firegate

# Rows id,username,email,password,is_active,date_joined with a distinct, well-formed
# Werkzeug pbkdf2 hash each (the importer checks the grammar, never the password).
generate() {
    awk -v n="$1" 'BEGIN {
        print "id,username,email,password,is_active,date_joined"
        for (i = 1; i <= n; i++)
            printf "%d,user%d,user%d@school.example,pbkdf2:sha256:260000$s%015d$%064x,t,2020-03-04 05:06:07+09\n", i, i, i, i, i
    }' >"$2"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The emulator through firegate's own launcher (`firegate emulator` prints host:port once it
# serves), with the heap the run needs.
start_emulator() {
    local heap=$1
    coproc EMULATOR { JAVA_TOOL_OPTIONS="-Xmx$heap" exec "$FIREGATE" emulator 2>"$WORK/emulator.log"; }
    EMULATOR_PID=$EMULATOR_PID
    read -r HOST <&"${EMULATOR[0]}" || { cat "$WORK/emulator.log" >&2; exit 1; }
}

stop_emulator() {
    kill "$EMULATOR_PID" && wait "$EMULATOR_PID" 2>/dev/null || true
    EMULATOR_PID=
}

# The command line importing FILE into PROJECT.
import_command() {
    COMMAND=("$FIREGATE" import "$2" --project-id "$1" --firestore-emulator-host "$HOST"
        --firestore-timeout-ms 60000 --log-format text
        --dialect werkzeug --concurrency "$CONCURRENCY")
}

generate 100000 "$WORK/warmup.csv"
printf '%-9s %-9s %-9s %-8s %-11s %-16s %s\n' \
    rows seconds docs docs/s accounts/s "peak RSS (MiB)" "rerun seconds"
for rows in "${SIZES[@]}"; do
    generate "$rows" "$WORK/users.csv"
    # The emulator keeps every document in its heap; 4 GiB stalls near a million documents.
    heap=${HEAP:-$(( rows >= 500000 ? 16 : 6 ))g}
    start_emulator "$heap"
    import_command warmup "$WORK/warmup.csv"
    "${COMMAND[@]}" >/dev/null 2>&1
    import_command bench "$WORK/users.csv"
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$WORK/rss" "${COMMAND[@]}" >"$WORK/summary" 2>"$WORK/stderr" ||
        { cat "$WORK/summary" "$WORK/stderr" >&2; exit 1; }
    end=$(date +%s.%N)
    imported=$(awk -F': ' '$1 == "imported" { print $2 }' "$WORK/summary")
    [[ $imported == "$rows" ]] || { echo "imported $imported of $rows" >&2; cat "$WORK/summary" >&2; exit 1; }
    rss=$(tail -1 "$WORK/rss")
    rerun_start=$(date +%s.%N)
    "${COMMAND[@]}" >"$WORK/summary" 2>"$WORK/stderr"
    rerun_end=$(date +%s.%N)
    present=$(awk -F': ' '$1 == "already present" { print $2 }' "$WORK/summary")
    [[ $present == "$rows" ]] || { echo "rerun: $present of $rows present" >&2; cat "$WORK/summary" >&2; exit 1; }
    awk -v rows="$rows" -v s="$start" -v e="$end" -v kib="$rss" -v rs="$rerun_start" -v re="$rerun_end" 'BEGIN {
        t = e - s; docs = rows * 3
        printf "%-9d %-9.1f %-9d %-8.0f %-11.0f %-16.1f %.1f\n", rows, t, docs, docs / t, rows / t, kib / 1024, re - rs
    }'
    stop_emulator
done
