#!/usr/bin/env python3
"""Cold starts of two firegate binaries, interleaved run by run so the machine's drift weighs on
both: exec → first argon2id sign-in, and the median timeline of each (run.py's `cold_run` and
`cold_timeline`, on an emulator of its own). For trying a start-up change against the build
before it:

    python3 scripts/bench/cold_ab.py BEFORE/firegate AFTER/firegate [RUNS]
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import run  # noqa: E402


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binaries = {"before": Path(sys.argv[1]).resolve(), "after": Path(sys.argv[2]).resolve()}
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 21
    workdir = Path(tempfile.mkdtemp(prefix="firegate-cold-ab-"))
    run.BINARY = binaries["before"]
    emulator = run.Emulator(workdir, None)
    try:
        keys = workdir / "keys"
        run.write_key(keys)
        env = run.server_env(emulator, keys)
        run.cli(env, "accounts", "create", "--login", run.ARGON2_LOGIN, "--uid", "bench-argon2",
                stdin=run.ARGON2_PASSWORD + "\n")
        request = run.http_request("POST", "/login/",
                                   run.login_body(run.ARGON2_LOGIN, run.ARGON2_PASSWORD))
        done = {k: [] for k in binaries}
        timelines = {k: [] for k in binaries}
        for i in range(runs + 1):  # run 0 of each warms the page cache: not counted
            for name, binary in binaries.items():
                run.BINARY = binary
                first = run.cold_run(env, request, workdir / f"{name}.log")
                timeline = run.cold_timeline(env, request, workdir / f"timeline-{name}.log")
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
