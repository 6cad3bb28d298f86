#!/usr/bin/env python3
"""Cold starts of two firegate binaries, interleaved run by run so the machine's drift weighs on
both: exec → first argon2id sign-in, and the median timeline of each (run.py's `cold_run` and
`cold_timeline`, on an emulator of its own). For trying a start-up change against the build
before it, or one binary under two environments:

    python3 scripts/bench/cold_ab.py BEFORE/firegate AFTER/firegate [RUNS]
    python3 scripts/bench/cold_ab.py BIN BIN --before-env GLIBC_TUNABLES=

Both run under the Dockerfile's environment (run.py's `image_env`, which sets
GLIBC_TUNABLES=glibc.malloc.hugetlb=1); `--before-env/--after-env` override it per side.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("runs", type=int, nargs="?", default=21)
    for side in ("before", "after"):
        parser.add_argument(f"--{side}-env", action="append", default=[], metavar="NAME=VALUE",
                            help=f"an environment variable for the {side} binary's runs")
    args = parser.parse_args()
    binaries = {"before": args.before.resolve(), "after": args.after.resolve()}
    extra = {}
    for side in binaries:
        pairs = [item.partition("=") for item in getattr(args, f"{side}_env")]
        if any(not sep or not name for name, sep, _ in pairs):
            sys.exit(f"error: --{side}-env takes NAME=VALUE")
        extra[side] = {name: value for name, _, value in pairs}
    runs = args.runs
    workdir = Path(tempfile.mkdtemp(prefix="firegate-cold-ab-"))
    run.BINARY = binaries["before"]
    emulator = run.Emulator(workdir, None)
    try:
        keys = workdir / "keys"
        run.write_key(keys)
        env = run.server_env(emulator, keys)
        run.cli(env, "accounts", "create", "--login", run.ARGON2_LOGIN, "--uid", "bench-argon2",
                stdin=run.ARGON2_PASSWORD + "\n")
        run.warm_emulator(env, workdir)
        request = run.http_request("POST", "/login/",
                                   run.login_body(run.ARGON2_LOGIN, run.ARGON2_PASSWORD))
        done = {k: [] for k in binaries}
        timelines = {k: [] for k in binaries}
        for i in range(runs + 1):  # run 0 of each warms the page cache: not counted
            for name, binary in binaries.items():
                run.BINARY = binary
                side_env = dict(env, **extra[name])
                first = run.cold_run(side_env, request, workdir / f"{name}.log")
                timeline = run.cold_timeline(side_env, request, workdir / f"timeline-{name}.log")
                if i:
                    done[name].append(first["done_ms"])
                    timelines[name].append(timeline)
                time.sleep(0.05)
        for name in binaries:
            s = run.summary(done[name])
            print(f"{name}: exec → first sign-in {s['median']:.1f} ms median "
                  f"({s['min']:.1f}–{s['max']:.1f}, {s['n']} runs)")
            for key, label in run.TIMELINE_EVENTS:
                if all(key in t for t in timelines[name]):
                    print(f"  {statistics.median(t[key] for t in timelines[name]):7.1f} ms  {label}")
    finally:
        run.stop_all()
        emulator.log.close()


if __name__ == "__main__":
    main()
