"""The image Cloud Run pulls: the shipped glibc binary on distroless `cc` against a static musl
build (mimalloc as its allocator, src/main.rs) on distroless `static` (standard library only).

`scripts/bench.sh` builds both (`--no-musl` skips the musl one) and run.py calls
`measure(run, env, workdir, rounds)`, which alternates the two binaries run by run on the same
emulator, so the machine's drift weighs on both: sizes and estimated images (no Docker engine:
the bases are rebuilt from the same Debian packages, run.py's `base_image`), exec → first
sign-in with the binary in the page cache, exec → accepting with it evicted (what a freshly
pulled image is), warm sign-in latency and CPU, and resident memory. `report(result)` renders
the comparison and the verdict the issue set: keep the faster, smaller one if it costs nothing
at run time.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

WARMUP = 20
WARM_LOGINS = 100
MEMORY_LOGINS = 1000
IDLE_RSS_LIMIT_MB = 20
# A difference within this share of the glibc figure is the machine's noise, not a cost.
MARGIN = 0.05


def evict(path: Path) -> None:
    """Drops a file's pages from the page cache (it is not mapped: no process runs it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def measure(run, env: dict[str, str], workdir: Path, rounds: int) -> dict:
    """Both binaries, alternated: `rounds` cold starts of each (after one uncounted one) with
    the binary cached and as many with it evicted, then `rounds` warm rounds of each."""
    binaries = {"glibc": run.BIN_DIR / "firegate", "musl": run.BIN_DIR / "firegate-musl"}
    packages = {"glibc": run.DISTROLESS_CC_PACKAGES, "musl": run.DISTROLESS_STATIC_PACKAGES}
    out: dict = {name: {"sizes": run.sizes(path, packages[name]),
                        "cached": [], "evicted": [], "warm": [], "cpu_ms": []}
                 for name, path in binaries.items()}
    login = run.http_request("POST", "/login/", run.login_body(run.ARGON2_LOGIN, run.ARGON2_PASSWORD))
    healthz = run.http_request("GET", "/healthz")
    shipped = run.BINARY
    try:
        for i in range(rounds + 1):
            for name, path in binaries.items():
                run.BINARY = path
                cached = run.cold_run(env, login, workdir / f"image-{name}.log")
                evict(path)
                evicted = run.cold_run(env, healthz, workdir / f"image-{name}.log")
                if i:  # run 0 of each warms the emulator's path and the page cache
                    out[name]["cached"].append(cached["done_ms"])
                    out[name]["evicted"].append(evicted["accept_ms"])
                time.sleep(0.05)
        for i in range(rounds):
            for name, path in binaries.items():
                run.BINARY = path
                server = run.Server(env, workdir / f"image-{name}-warm.log")
                try:
                    if i == 0:
                        time.sleep(1)
                        out[name]["idle_rss_mib"] = server.memory()["rss_mib"]
                    samples, cpu_ms = warm_logins(run, server)
                    out[name]["warm"] += samples
                    out[name]["cpu_ms"].append(cpu_ms)
                    if i == 0:
                        done = server.logins(MEMORY_LOGINS, 4)
                        if done["statuses"] != {200: MEMORY_LOGINS}:
                            raise SystemExit(f"error: {name}: {MEMORY_LOGINS} logins answered "
                                             f"{done['statuses']}")
                        out[name]["rss_after_mib"] = server.memory()["rss_mib"]
                finally:
                    server.stop()
    finally:
        run.BINARY = shipped
    for name in binaries:
        o = out[name]
        o["cached"], o["evicted"] = run.summary(o["cached"]), run.summary(o["evicted"])
        o["warm"], o["cpu_ms"] = run.summary(o["warm"]), statistics.median(o["cpu_ms"])
    return out


def warm_logins(run, server) -> tuple[list[float], float]:
    """`WARM_LOGINS` sequential sign-ins on one keep-alive connection after `WARMUP`: their
    latencies and the server's CPU per sign-in, in ms."""
    body = run.login_body(run.ARGON2_LOGIN, run.ARGON2_PASSWORD)
    server.timed_logins(WARMUP, body)
    samples, cpu_s = server.timed_logins(WARM_LOGINS, body)
    return samples, cpu_s / WARM_LOGINS * 1e3


def verdict(r: dict) -> tuple[bool, list[str]]:
    """Whether the musl image should ship: smaller, and no worse on any run-time figure
    (beyond `MARGIN`, the machine's noise)."""
    g, m = r["glibc"], r["musl"]

    def worse(musl: float, glibc: float) -> bool:
        return musl > glibc * (1 + MARGIN)

    costs = []
    if worse(m["cached"]["median"], g["cached"]["median"]):
        costs.append("a slower first sign-in")
    if worse(m["evicted"]["median"], g["evicted"]["median"]):
        costs.append("a slower start from an evicted page cache")
    if worse(m["warm"]["median"], g["warm"]["median"]) or worse(m["cpu_ms"], g["cpu_ms"]):
        costs.append("slower or costlier warm sign-ins")
    if m["idle_rss_mib"] * 2**20 / 1e6 >= IDLE_RSS_LIMIT_MB:
        costs.append(f"idle memory past the {IDLE_RSS_LIMIT_MB} MB target")
    if worse(m["rss_after_mib"], g["rss_after_mib"]):
        costs.append("more memory after sign-ins")
    smaller = m["sizes"]["image_gz_mib"] < g["sizes"]["image_gz_mib"]
    return smaller and not costs, costs


def table(r: dict) -> str:
    """The comparison as a markdown table, then the verdict (the book and RESULTS.md)."""
    g, m = r["glibc"], r["musl"]

    def sz(s: dict) -> str:
        return f"{s['image_mib']:.1f} / {s['image_gz_mib']:.1f} MiB"

    rows = [
        ("binary (stripped) / gzipped", f"{g['sizes']['binary_mib']:.1f} / "
         f"{g['sizes']['binary_gz_mib']:.1f} MiB", f"{m['sizes']['binary_mib']:.1f} / "
         f"{m['sizes']['binary_gz_mib']:.1f} MiB"),
        ("image / compressed (estimated)", sz(g["sizes"]), sz(m["sizes"])),
        (f"exec → first sign-in, binary in the page cache (median of {g['cached']['n']})",
         f"{g['cached']['median']:.1f} ms", f"{m['cached']['median']:.1f} ms"),
        (f"exec → accepting, binary evicted from the page cache (median of {g['evicted']['n']})",
         f"{g['evicted']['median']:.1f} ms", f"{m['evicted']['median']:.1f} ms"),
        (f"warm sign-in p50 ({g['warm']['n']} sequential) / CPU per sign-in",
         f"{g['warm']['median']:.1f} / {g['cpu_ms']:.1f} ms",
         f"{m['warm']['median']:.1f} / {m['cpu_ms']:.1f} ms"),
        (f"RSS idle / after {MEMORY_LOGINS:,} sign-ins",
         f"{g['idle_rss_mib']:.1f} / {g['rss_after_mib']:.1f} MiB",
         f"{m['idle_rss_mib']:.1f} / {m['rss_after_mib']:.1f} MiB"),
    ]
    ship, costs = verdict(r)
    decision = ("the musl image is smaller and costs nothing at run time: it should ship"
                if ship else
                "glibc stays: the musl image " + ("is not smaller" if not costs else
                                                 "costs " + ", ".join(costs)))
    return "\n".join([
        "| | glibc, distroless `cc` (shipped) | musl + mimalloc, distroless `static` |",
        "|---|---|---|",
        *(f"| {label} | {a} | {b} |" for label, a, b in rows),
        "", f"Verdict: {decision}."]) + "\n"


def report(r: dict) -> str:
    """The RESULTS.md section."""
    return "\n".join([
        "## Image: glibc or static musl", "",
        "The shipped binary (glibc, on `gcr.io/distroless/cc-debian12`) against a static build "
        "of the same sources for `x86_64-unknown-linux-musl` (`crt-static`, mimalloc as the "
        "global allocator, as src/main.rs selects for musl) on `gcr.io/distroless/static-debian12` "
        "(base-files, netbase, tzdata, CA certificates). Images are estimated as above. The two "
        "binaries alternate run by run on the same emulator; an evicted start drops the binary's "
        "pages (`posix_fadvise(DONTNEED)`) before exec and sends `GET /healthz`; only the "
        "binary's: glibc's shared libraries are mapped by running processes and stay cached, "
        "which favours the glibc image by what reading them from disk would cost.", "",
        table(r).rstrip()]) + "\n"
