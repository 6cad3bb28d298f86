#!/usr/bin/env python3
"""What firegate would cost a month on Cloud Run (request-based billing, minimum instances 0,
1 vCPU, 512 MiB) with Firestore in us-central1, from a benchmark run's figures:

    python3 bench/cost.py [bench/results.json]      # prints the table; the driver embeds it

Model: an instance is billed its vCPU and memory while a request is in flight, each such
interval rounded up to 100 ms; with random (Poisson) arrivals over each day's active hours the
rounded intervals cover a share 1 − e^(−rate × ceil(time in flight)) of an instance's time, as
many instances as keep CPU at Cloud Run's 60% scaling target; each instance starts once per
active day (a cold sign-in billed its exec → first sign-in time). 5% of sign-ins fail (500 ms
failure floor, 2 writes and 1 delete); 3 reads per sign-in; Firestore's free quota is daily,
Cloud Run's monthly. Traffic: the seed (30,000 a month, 60% in a 14-day term start whose
busiest day is 3× its mean, 14 active hours a day, 3,000 legacy accounts upgraded once) and
1 M and 10 M a month over 22 weekdays of 10 hours.
"""

import json, math, sys
from pathlib import Path

PRICES_AS_OF = "2026-12-02"  # https://cloud.google.com/run/pricing, /firestore/pricing
VCPU_S, GIB_S, REQUEST = 0.000024, 0.0000025, 0.40e-6  # US$, Cloud Run Tier 1
FREE_VCPU_S, FREE_GIB_S, FREE_REQUESTS = 180_000, 360_000, 2_000_000  # a month
READ, WRITE, DELETE, GIB_MONTH = 0.03e-5, 0.09e-5, 0.01e-5, 0.18  # US$, Firestore us-central1
FREE_READS, FREE_WRITES, FREE_DELETES, FREE_GIB = 50_000, 20_000, 20_000, 1.0  # a day; stored
GRANULE, CPU_TARGET, MEMORY_GIB, FLOOR_S, KIB_PER_ACCOUNT = 0.1, 0.6, 0.5, 0.5, 8


def ceil100(seconds):
    return math.ceil(seconds / GRANULE - 1e-9) * GRANULE


def scales():
    term, peak = 18_000, 18_000 / 14 * 3
    seed = [(1, peak, 14, 3000 * peak / term), (13, (term - peak) / 13, 14, 3000 * (term - peak) / 13 / term),
            (16, 12_000 / 16, 14, 0)]
    return [("seed (30,000/month, term start)", 30_000, 3_000, seed),
            ("1 M/month", 1e6, 50_000, [(22, 1e6 / 22, 10, 0)]),
            ("10 M/month", 1e7, 500_000, [(22, 1e7 / 22, 10, 0)])]


def day(m, signins, hours, legacy):
    """One active day: billed instance-seconds, CPU-s, Firestore reads, writes, deletes."""
    window, cpu, wall = hours * 3600, m["cpu_s"], m["wall_s"]
    kinds = [(signins * 0.95 - legacy, cpu, wall), (legacy, cpu + m["legacy_cpu_s"], wall + m["legacy_cpu_s"]),
             (signins * 0.05, cpu, max(wall, FLOOR_S))]
    used = sum(n * c for n, c, _ in kinds)
    instances = max(1, math.ceil(used / window / CPU_TARGET))
    stretch = 1 / (1 - used / window / instances)
    x = sum(n / window / instances * ceil100(w - c + c * stretch) for n, c, w in kinds)
    alone = sum(n * ceil100(w) for n, _, w in kinds)
    billed = min(max(instances * window * -math.expm1(-x), used), alone)
    billed += instances * (ceil100(m["cold_wall_s"]) - ceil100(wall) + GRANULE)
    return billed, used, 3 * signins, legacy + signins * 0.05 * 2, signins * 0.05


def month(m, accounts, days):
    billed = used = fs = 0.0
    for count, signins, hours, legacy in days:
        b, u, reads, writes, deletes = day(m, signins, hours, legacy)
        billed, used = billed + count * b, used + count * u
        fs += count * (max(0, reads - FREE_READS) * READ + max(0, writes - FREE_WRITES) * WRITE
                       + max(0, deletes - FREE_DELETES) * DELETE)
    requests = sum(c * s for c, s, _, _ in days)
    run = (max(0, billed - FREE_VCPU_S) * VCPU_S + max(0, billed * MEMORY_GIB - FREE_GIB_S) * GIB_S
           + max(0, requests - FREE_REQUESTS) * REQUEST)
    fs += max(0, accounts * KIB_PER_ACCOUNT / 2**20 - FREE_GIB) * GIB_MONTH
    return used, billed, run, fs


def inputs(r):
    return {"cpu_s": r["warm"]["cpu_ms"] / 1e3, "wall_s": r["warm"]["p50"] / 1e3,
            "cold_wall_s": r["cold"]["first"]["p50"] / 1e3,
            "legacy_cpu_s": r.get("micro", {}).get("werkzeug_ms", 35) / 1e3}


def usd(x):
    return "$0" if x < 0.005 else f"${x:,.2f}"


def table(r):
    m = inputs(r)
    out = ["| sign-ins a month | CPU-s used → billable vCPU-s | Cloud Run | Firestore | total | per million |",
           "|---|---|---|---|---|---|"]
    for label, total, accounts, days in scales():
        used, billed, run, fs = month(m, accounts, days)
        out.append(f"| {label} | {used:,.0f} → {billed:,.0f} | {usd(run)} | {usd(fs)} | **{usd(run + fs)}** | "
                   f"{usd((run + fs) / (total / 1e6))} |")
    out += ["", f"List prices of {PRICES_AS_OF} (Cloud Run Tier 1, request-based billing, after the free tiers; "
            f"Firestore us-central1), from this run's CPU per warm sign-in ({m['cpu_s'] * 1e3:.1f} ms), warm p50 "
            f"({m['wall_s'] * 1e3:.1f} ms) and exec → first sign-in ({m['cold_wall_s'] * 1e3:.1f} ms); the model "
            "and its assumptions: `bench/cost.py`."]
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results.json")
    print(table(json.loads(path.read_text())))
