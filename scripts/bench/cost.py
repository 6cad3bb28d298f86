#!/usr/bin/env python3
"""What firegate costs a month on Cloud Run and Firestore (standard library only).

`model(measured)` turns the benchmark's figures into monthly costs at three scales (the seed's
term-shaped 30,000 sign-ins, 1 million and 10 million); `report(model)` renders them as a
markdown "## Cost model" section, `summary_table(model)` as a compact table for the book's benchmarks page.
`python3 scripts/bench/cost.py` checks the arithmetic on hand-computed cases, then prints the
report for example inputs.

Inputs (`measured`), as the benchmark measures them:

| key | what | from |
|---|---|---|
| `cpu_s_per_signin` | firegate's own CPU-seconds per warm sign-in | /proc, throughput run |
| `wall_s_per_signin` | warm p50 latency, seconds | wrk, concurrency 1 |
| `cold_start_cpu_s`, `cold_start_wall_s` | exec → first sign-in answered | cold-start runs |
| `rss_mib_peak` | peak resident memory, MiB | /proc, 500 concurrent |
| `reads_per_signin`, `writes_per_signin` | Firestore documents, warm argon2id sign-in | emulator |

Optional keys (defaults in `DEFAULTS`): `failure_floor_s`, `legacy_extra_cpu_s`,
`legacy_extra_wall_s`, `preflight_wall_s`, `preflight_cpu_s`, `writes_per_failed_signin`,
`deletes_per_failed_signin`,
`instance` ({"vcpu", "memory_mib", "concurrency_one"}), `idle_shutdown_s`, `scales` (a list
as built by `seed_scale` / `business_scale`), `preflights_per_signin`.
"""

from __future__ import annotations

import math

# ---------------------------------------------------------------------------------------------
# Prices and platform figures. Every figure was read on PRICES_AS_OF from the stored copies of
# the pages named beside it that the search tool returns (the copies' own crawl dates are not
# known); a figure that tool could not show on the official page says so.
# ---------------------------------------------------------------------------------------------

PRICES_AS_OF = "2026-12-02"

CLOUD_RUN_PRICING = "https://cloud.google.com/run/pricing"
FIRESTORE_PRICING = "https://cloud.google.com/firestore/pricing"

# Cloud Run services, request-based billing ("CPU only allocated during request processing"),
# Tier 1 regions (us-central1 among them).
# https://cloud.google.com/run/pricing, Tier 1, request-based billing: "$0.00002400 / vCPU-second
# beyond free tier"; read 2026-12-02.
RUN_USD_PER_VCPU_S = 0.000024
# https://cloud.google.com/run/pricing, Tier 1, request-based billing, memory column; read
# 2026-12-02. Not confirmed from the source here (the stored page's text stops before the
# memory column); cloudwebschool.com/tools/cloud-run-cost-calculator and
# cloudchipr.com/blog/cloud-run-pricing quote $0.00000250 / GiB-second.
RUN_USD_PER_GIB_S = 0.0000025
# https://cloud.google.com/run/pricing, Tier 1, request-based billing, requests column; read
# 2026-12-02. Not confirmed from the source here (same gap); the same two pages quote
# "$0.40 per million requests above the 2 million free tier".
RUN_USD_PER_REQUEST = 0.40 / 1_000_000
# https://cloud.google.com/run/pricing, free tier of request-based billing: "First 180,000
# vCPU-seconds free per month", "First 360,000 GiB-seconds free per month", "2 million requests
# free per month"; "aggregated across projects by billing account and resets every month",
# "applied as a spending based discount using Tier 1 pricing"; read 2026-12-02.
RUN_FREE_VCPU_S = 180_000
RUN_FREE_GIB_S = 360_000
RUN_FREE_REQUESTS = 2_000_000
# https://cloud.google.com/run/pricing: "Cloud Run charges you only for the resources you use,
# rounded up to the nearest 100 millisecond"; read 2026-12-02. Whether the rounding applies to
# each interval with a request in flight (as modelled) is not confirmed from the source here.
RUN_GRANULE_S = 0.1
# https://cloud.google.com/run/docs/configuring/billing-settings: "Request-based billing
# (default): Cloud Run instances are only charged when they process requests, when they
# start, and when they shut down"; read 2026-12-02. (No figure: the billing rule itself.)
# https://cloud.google.com/run/docs/about-instance-autoscaling (stored es, ja, de, pt-BR
# copies): the autoscaler keeps instances at "60% de uso de CPU" over a one-minute window;
# read 2026-12-02.
RUN_CPU_TARGET = 0.60
# Idle instances are kept for at most 15 minutes before shutdown. Not confirmed from the
# source here (Google's own page did not come up; a book on Cloud Run quoted in public
# repositories says "may keep some instances idle for a maximum of 15 minutes", and
# github.com/ahmetb/cloud-run-faq/issues/34 reports scale-down after as little as 2 minutes).
RUN_IDLE_SHUTDOWN_S = 15 * 60
RUN_IDLE_SHUTDOWN_SHORT_S = 2 * 60
# https://cloud.google.com/run/docs/configuring/services/memory-limits: "By default, the memory
# allocated to each instance of a revision is 512 MiB"; "Minimum memory ... 128 MiB for first
# generation, 512 MiB for second generation"; read 2026-12-02.
RUN_DEFAULT_MEMORY_MIB = 512
RUN_MIN_MEMORY_MIB_GEN1 = 128
RUN_MIN_MEMORY_MIB_GEN2 = 512
# https://cloud.google.com/run/docs/configuring/services/cpu: 1 vCPU "Up to 4 GiB"; below 1
# vCPU (0.08 to 1): "Maximum concurrency must be set to 1", request-based billing, "You must
# use the first generation execution environment", "A minimum of 0.5 vCPU is needed to set a
# memory limit greater than 512MiB"; read 2026-12-02.
RUN_MAX_MEMORY_MIB_AT_1_VCPU = 4096
RUN_MIN_VCPU = 0.08

# Firestore (Native mode, Standard edition), us-central1.
# https://cloud.google.com/firestore/pricing, "Pricing by location", us-central1; read
# 2026-12-02. Not confirmed from the source here (the per-location table is not in the stored
# page's text); public repository notes quoting that page for us-central1 give reads $0.03,
# writes $0.09, deletes $0.01 per 100,000 documents.
FS_USD_PER_READ = 0.03 / 100_000
FS_USD_PER_WRITE = 0.09 / 100_000
FS_USD_PER_DELETE = 0.01 / 100_000
# Stored data beyond the free GiB. Not confirmed from the source here: $0.18 per GiB-month is
# the multi-region figure widely quoted; taken as an upper bound for us-central1.
FS_USD_PER_GIB_MONTH = 0.18
# https://cloud.google.com/firestore/pricing, "Free quota": "Stored data 1 GiB", "Document
# reads 50,000 per day", "Document writes 20,000 per day", "Document deletes 20,000 per day";
# "Quotas are applied daily and reset around midnight Pacific time"; "Only the (default)
# database qualifies for the free quota"; read 2026-12-02.
FS_FREE_READS_PER_DAY = 50_000
FS_FREE_WRITES_PER_DAY = 20_000
FS_FREE_DELETES_PER_DAY = 20_000
FS_FREE_STORED_GIB = 1.0

PRICE_ROWS = [
    # (item, price, source, confirmed)
    ("Cloud Run vCPU-second (Tier 1, request-based)", "$0.000024", CLOUD_RUN_PRICING, True),
    ("Cloud Run GiB-second (Tier 1, request-based)", "$0.0000025", CLOUD_RUN_PRICING, False),
    ("Cloud Run requests", "$0.40 per million", CLOUD_RUN_PRICING, False),
    ("Cloud Run free tier, per billing account and month",
     "180,000 vCPU-s, 360,000 GiB-s, 2 million requests", CLOUD_RUN_PRICING, True),
    ("Cloud Run billable time", "rounded up to 100 ms", CLOUD_RUN_PRICING, True),
    ("Cloud Run autoscaling target", "60% CPU over one minute",
     "https://cloud.google.com/run/docs/about-instance-autoscaling", True),
    ("Cloud Run idle instance kept", "at most 15 min (2 min observed)",
     "Google's page not found here; a Cloud Run book quoted in public repositories; "
     "<https://github.com/ahmetb/cloud-run-faq/issues/34> (2 min)", False),
    ("Cloud Run memory at 1 vCPU",
     "128 MiB (1st gen) or 512 MiB (2nd gen) to 4 GiB; default 512 MiB",
     "https://cloud.google.com/run/docs/configuring/services/memory-limits", True),
    ("Cloud Run below 1 vCPU", "0.08–1 vCPU: concurrency 1, request-based billing, 1st gen",
     "https://cloud.google.com/run/docs/configuring/services/cpu", True),
    ("Firestore document reads (us-central1)", "$0.03 per 100,000", FIRESTORE_PRICING, False),
    ("Firestore document writes (us-central1)", "$0.09 per 100,000", FIRESTORE_PRICING, False),
    ("Firestore document deletes (us-central1)", "$0.01 per 100,000", FIRESTORE_PRICING, False),
    ("Firestore stored data beyond 1 GiB", "$0.18 per GiB-month (upper bound)",
     FIRESTORE_PRICING, False),
    ("Firestore free quota, per project, (default) database",
     "50,000 reads, 20,000 writes, 20,000 deletes a day; 1 GiB stored", FIRESTORE_PRICING, True),
]

# ---------------------------------------------------------------------------------------------
# Defaults for what the benchmark does not measure. Each is an assumption the report states.
# ---------------------------------------------------------------------------------------------

DEFAULTS = {
    # firegate's --failure-floor-ms default: a failed sign-in answers no sooner than 500 ms,
    # so its request (and the billable interval) stays open that long.
    "failure_floor_s": 0.5,
    # A legacy account's first sign-in verifies its Werkzeug pbkdf2:sha256:260000 hash
    # before the argon2id rehash that replaces the usual argon2id verify, and writes the new
    # hash (one more round trip). The benchmark passes its own Werkzeug verify time; these
    # are for the self-check only.
    "legacy_extra_cpu_s": 0.039,
    "legacy_extra_wall_s": 0.041,
    # A CORS preflight (OPTIONS) is answered by the CORS layer: no Firestore, no hashing.
    "preflight_wall_s": 0.002,
    "preflight_cpu_s": 0.0005,
    "preflights_per_signin": 0.0,
    # The failure record, then its clearing at the next successful sign-in.
    "writes_per_failed_signin": 2,
    # The failure record's deletion: by its TTL policy (`expire_at`), or at the next success
    # when no network is kept familiar (`--familiar-days 0`). At most one per record, so one
    # per failed sign-in is an upper bound.
    "deletes_per_failed_signin": 1,
    "idle_shutdown_s": RUN_IDLE_SHUTDOWN_S,
    # What an instance's shutdown is billed: firegate exits at once on SIGTERM when no request
    # is in flight; that moment is billed as one 100 ms interval.
    "shutdown_billed_s": RUN_GRANULE_S,
    # Account document, login index document and lockout record, with their index entries.
    "kib_per_account": 8.0,
    "instance": {"vcpu": 1.0, "memory_mib": RUN_DEFAULT_MEMORY_MIB, "concurrency_one": False},
}


def seed_scale(total: int = 30_000, days_in_month: int = 30, term_days: int = 14,
               term_share: float = 0.60, peak_factor: float = 3.0, hours: float = 14.0,
               failed_fraction: float = 0.05, accounts: int = 3_000,
               legacy_upgrades: int | None = None) -> dict:
    """The seed's month at the start of a term: `term_share` of the sign-ins in the first
    `term_days` days, its busiest day `peak_factor` × that fortnight's daily mean, the rest of
    the month even; each day's sign-ins spread at random over `hours` (08:00–22:00). Every
    account starts with a legacy hash (the first term after an import): each upgrades at its
    first sign-in, in the term's first fortnight, in proportion to that fortnight's sign-ins."""
    term = total * term_share
    peak = term / term_days * peak_factor
    rest_of_term = (term - peak) / (term_days - 1)
    rest = (total - term) / (days_in_month - term_days)
    legacy = accounts if legacy_upgrades is None else legacy_upgrades
    days = [
        {"label": "term start, busiest day", "count": 1, "signins": peak, "hours": hours,
         "legacy": legacy * peak / term},
        {"label": "term start, other days", "count": term_days - 1, "signins": rest_of_term,
         "hours": hours, "legacy": legacy * rest_of_term / term},
        {"label": "rest of the month", "count": days_in_month - term_days, "signins": rest,
         "hours": hours, "legacy": 0.0},
    ]
    return {
        "name": "seed", "label": f"seed ({total:,}/month, term start)", "signins": total,
        "days": days, "failed_fraction": failed_fraction, "accounts": accounts,
        "shape": (f"{term_share:.0%} of {total:,} sign-ins in the first {term_days} days of "
                  f"a {days_in_month}-day month, the busiest of them {peak_factor:g}× that "
                  f"fortnight's daily mean ({peak:,.0f} sign-ins); the other "
                  f"{days_in_month - term_days} days {rest:,.0f} a day; each day's sign-ins "
                  f"at random over {hours:g} h (08:00–22:00), none at night; {accounts:,} "
                  f"accounts, all with legacy hashes, each upgraded at its first sign-in "
                  f"in the first fortnight"),
    }


def business_scale(total: int, business_days: int = 22, hours: float = 10.0,
                   failed_fraction: float = 0.05, signins_per_account: float = 20.0) -> dict:
    """`total` sign-ins spread evenly over `business_days` weekdays, at random over `hours`
    a day (09:00–19:00), none at night or at weekends; no legacy hashes left (steady state)."""
    per_day = total / business_days
    accounts = round(total / signins_per_account)
    label = f"{total / 1e6:g} M/month"
    return {
        "name": f"{total / 1e6:g}M", "label": label, "signins": total,
        "days": [{"label": "business day", "count": business_days, "signins": per_day,
                  "hours": hours, "legacy": 0.0}],
        "failed_fraction": failed_fraction, "accounts": accounts,
        "shape": (f"{total:,} sign-ins evenly over {business_days} weekdays "
                  f"({per_day:,.0f} a day), at random over {hours:g} business hours "
                  f"(09:00–19:00), none at night or at weekends; {accounts:,} accounts "
                  f"({signins_per_account:g} sign-ins each a month), no legacy hashes left"),
    }


def default_scales() -> list[dict]:
    return [seed_scale(), business_scale(1_000_000), business_scale(10_000_000)]


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------


def ceil_granule(seconds: float, granule: float = RUN_GRANULE_S) -> float:
    """`seconds` rounded up to the next multiple of `granule` (0 stays 0)."""
    if seconds <= 0:
        return 0.0
    return math.ceil(seconds / granule - 1e-9) * granule


def per_request_view(requests: float, wall_s: float, vcpu: float = 1.0) -> float:
    """vCPU-seconds billed when every request is its own billable interval (low traffic)."""
    return requests * ceil_granule(wall_s) * vcpu


def cloud_run_cost(vcpu_s: float, gib_s: float, requests: float) -> dict:
    """Cloud Run's bill for one month, before and after the monthly free tier."""
    cpu, mem, req = (vcpu_s * RUN_USD_PER_VCPU_S, gib_s * RUN_USD_PER_GIB_S,
                     requests * RUN_USD_PER_REQUEST)
    cpu_after = max(0.0, vcpu_s - RUN_FREE_VCPU_S) * RUN_USD_PER_VCPU_S
    mem_after = max(0.0, gib_s - RUN_FREE_GIB_S) * RUN_USD_PER_GIB_S
    req_after = max(0.0, requests - RUN_FREE_REQUESTS) * RUN_USD_PER_REQUEST
    return {"before": cpu + mem + req, "after": cpu_after + mem_after + req_after,
            "cpu_after": cpu_after, "memory_after": mem_after, "requests_after": req_after}


def firestore_day_cost(reads: float, writes: float, deletes: float = 0.0) -> float:
    """One day's Firestore operations after that day's free quota."""
    return (max(0.0, reads - FS_FREE_READS_PER_DAY) * FS_USD_PER_READ
            + max(0.0, writes - FS_FREE_WRITES_PER_DAY) * FS_USD_PER_WRITE
            + max(0.0, deletes - FS_FREE_DELETES_PER_DAY) * FS_USD_PER_DELETE)


def busy_billing(classes: list[dict], granule: float = RUN_GRANULE_S) -> float:
    """Billed instance-seconds per second of one instance with request-based billing.

    `classes`: [{"rate": arrivals/s at this instance, "wall": seconds in flight}]. Each request
    keeps the instance billed for its time in flight rounded up to the granule; where those
    spans overlap (requests in flight together, or one arriving before the previous one's
    rounded-up end) the time is billed once. With random (Poisson) arrivals the spans cover a
    share 1 − e^−x of the time, x = Σ rate × ceil(wall) (M/G/∞: the chance that no span
    covers a given instant). At a trickle that is Σ rate × ceil(wall), every request billed
    alone; under load it tends to 1, the instance billed all the time. It errs high between
    the two: a busy period of overlapping requests is billed its rounded-up length plus the
    overlap of the later requests' rounding.
    """
    x = sum(c["rate"] * ceil_granule(c["wall"], granule) for c in classes)
    return -math.expm1(-x)


def _wall_at(wall_s: float, cpu_s: float, vcpu: float, stretch: float = 1.0) -> float:
    """A request's time in flight on an instance of `vcpu`: the part that is not firegate's CPU
    (Firestore round trips) as measured, the CPU part slowed below 1 vCPU and by `stretch`
    (processor sharing with the other requests in flight)."""
    waiting = max(0.0, wall_s - cpu_s)
    return waiting + cpu_s / min(vcpu, 1.0) * stretch


def _classes(p: dict, day: dict, failed_fraction: float) -> list[dict]:
    """The day's requests by kind: count per day, CPU-s, time in flight at concurrency 1."""
    n = day["signins"]
    failed = n * failed_fraction
    legacy = min(day["legacy"], n - failed)
    ok = n - failed - legacy
    c, w = p["cpu_s_per_signin"], p["wall_s_per_signin"]
    kinds = [
        {"kind": "sign-in", "n": ok, "cpu": c, "wall": w, "floor": 0.0,
         "reads": p["reads_per_signin"], "writes": p["writes_per_signin"], "deletes": 0},
        {"kind": "legacy first sign-in", "n": legacy, "cpu": c + p["legacy_extra_cpu_s"],
         "wall": w + p["legacy_extra_wall_s"], "floor": 0.0,
         "reads": p["reads_per_signin"], "writes": p["writes_per_signin"] + 1, "deletes": 0},
        {"kind": "failed sign-in", "n": failed, "cpu": c, "wall": w,
         "floor": p["failure_floor_s"], "reads": p["reads_per_signin"],
         "writes": p["writes_per_signin"] + p["writes_per_failed_signin"],
         "deletes": p["deletes_per_failed_signin"]},
        {"kind": "CORS preflight", "n": n * p["preflights_per_signin"],
         "cpu": p["preflight_cpu_s"], "wall": p["preflight_wall_s"], "floor": 0.0,
         "reads": 0, "writes": 0, "deletes": 0},
    ]
    return [k for k in kinds if k["n"] > 0]


def _day(p: dict, day: dict, failed_fraction: float) -> dict:
    """One day of a day type: instances, billed time, CPU, cold starts, Firestore."""
    inst = p["instance"]
    vcpu = inst["vcpu"]
    window = day["hours"] * 3600
    kinds = _classes(p, day, failed_fraction)
    requests = sum(k["n"] for k in kinds)
    cpu_used = sum(k["n"] * k["cpu"] for k in kinds)
    unloaded = [max(k["floor"], _wall_at(k["wall"], k["cpu"], vcpu)) for k in kinds]
    per_request = sum(k["n"] * ceil_granule(w) for k, w in zip(kinds, unloaded))
    capacity = cpu_used / (vcpu * RUN_CPU_TARGET)
    if inst["concurrency_one"]:
        # One request per instance: every request is its own billable interval; as many
        # instances as requests in flight (Poisson mean plus two standard deviations).
        in_flight = sum(k["n"] / window * w for k, w in zip(kinds, unloaded))
        instances = max(1, math.ceil(in_flight + 2 * math.sqrt(in_flight)))
        billed = per_request
        rho = cpu_used / window / (vcpu * instances)
    else:
        instances = max(1, math.ceil(cpu_used / window / (vcpu * RUN_CPU_TARGET)))
        rho = cpu_used / window / (vcpu * instances)
        stretch = 1.0 / (1.0 - rho)
        classes = [{"rate": k["n"] / window / instances,
                    "wall": max(k["floor"], _wall_at(k["wall"], k["cpu"], vcpu, stretch))}
                   for k in kinds]
        billed = instances * window * busy_billing(classes)
        # Never below the CPU time itself, never above every request billed alone.
        billed = min(max(billed, cpu_used / vcpu), per_request)
    # Cold starts: each instance starts once each active day (the night is longer than the
    # idle shutdown), and again after every gap between its requests longer than it.
    rate = requests / window / instances
    per_instance = requests / instances
    gaps = instances * max(0.0, per_instance - 1) * math.exp(-rate * p["idle_shutdown_s"])
    cold = instances + gaps
    warm_wall = _wall_at(p["wall_s_per_signin"], p["cpu_s_per_signin"], vcpu)
    cold_wall = _wall_at(p["cold_start_wall_s"], p["cold_start_cpu_s"], vcpu)
    cold_billed = cold * (max(0.0, ceil_granule(cold_wall) - ceil_granule(warm_wall))
                          + p["shutdown_billed_s"])
    cold_cpu = cold * max(0.0, p["cold_start_cpu_s"] - p["cpu_s_per_signin"])
    reads = sum(k["n"] * k["reads"] for k in kinds)
    writes = sum(k["n"] * k["writes"] for k in kinds)
    deletes = sum(k["n"] * k["deletes"] for k in kinds)
    return {
        "label": day["label"], "count": day["count"], "signins": day["signins"],
        "hours": day["hours"], "requests": requests, "instances": instances,
        "cpu_utilisation": rho, "cold_starts": cold,
        "cpu_s_used": cpu_used + cold_cpu,
        "billed_instance_s": billed + cold_billed,
        "per_request_instance_s": per_request + cold_billed,
        "capacity_instance_s": capacity,
        "cold_billed_instance_s": cold_billed,
        "reads": reads, "writes": writes, "deletes": deletes,
        "firestore_usd": firestore_day_cost(reads, writes, deletes),
    }


def _scale(p: dict, scale: dict) -> dict:
    inst = p["instance"]
    vcpu, gib = inst["vcpu"], inst["memory_mib"] / 1024
    days = [_day(p, d, scale["failed_fraction"]) for d in scale["days"]]

    def month(key: str) -> float:
        return sum(d[key] * d["count"] for d in days)

    billed = month("billed_instance_s")
    requests = month("requests")
    vcpu_s, gib_s = billed * vcpu, billed * gib
    run = cloud_run_cost(vcpu_s, gib_s, requests)
    peak = max(days, key=lambda d: (d["reads"], d["writes"]))
    stored_gib = scale["accounts"] * p["kib_per_account"] / 2**20
    storage_usd = max(0.0, stored_gib - FS_FREE_STORED_GIB) * FS_USD_PER_GIB_MONTH
    firestore_ops = month("firestore_usd")
    firestore = firestore_ops + storage_usd
    total = run["after"] + firestore
    return {
        "name": scale["name"], "label": scale["label"], "shape": scale["shape"],
        "signins": scale["signins"], "requests": requests,
        "failed_share": scale["failed_fraction"],
        "active_days": sum(d["count"] for d in days),
        "days": days,
        "instances_peak": max(d["instances"] for d in days),
        "cpu_utilisation_peak": max(d["cpu_utilisation"] for d in days),
        "cold_starts": month("cold_starts"),
        "cpu_s_used": month("cpu_s_used"),
        "vcpu_s": {"per_request": month("per_request_instance_s") * vcpu,
                   "capacity": month("capacity_instance_s") * vcpu,
                   "billable": vcpu_s,
                   "cold_starts": month("cold_billed_instance_s") * vcpu},
        "gib_s": gib_s,
        "cloud_run": run,
        "firestore": {
            "peak_day": {"label": peak["label"], "reads": peak["reads"],
                         "writes": peak["writes"], "deletes": peak["deletes"],
                         "usd": peak["firestore_usd"]},
            "reads_month": month("reads"), "writes_month": month("writes"),
            "deletes_month": month("deletes"),
            "days_over_free_reads": sum(d["count"] for d in days
                                        if d["reads"] > FS_FREE_READS_PER_DAY),
            "days_over_free_writes": sum(d["count"] for d in days
                                         if d["writes"] > FS_FREE_WRITES_PER_DAY),
            "days_over_free_deletes": sum(d["count"] for d in days
                                          if d["deletes"] > FS_FREE_DELETES_PER_DAY),
            "operations_usd": firestore_ops,
            "stored_gib": stored_gib, "storage_usd": storage_usd,
            "usd": firestore,
        },
        "total_usd": total,
        "usd_per_million": total / (scale["signins"] / 1e6),
    }


def _params(measured: dict) -> dict:
    p = {**DEFAULTS, **measured}
    p["instance"] = {**DEFAULTS["instance"], **measured.get("instance", {})}
    inst = p["instance"]
    if inst["vcpu"] < 1 and not inst["concurrency_one"]:
        raise ValueError("below 1 vCPU Cloud Run requires concurrency 1 (concurrency_one)")
    if not RUN_MIN_VCPU <= inst["vcpu"]:
        raise ValueError(f"Cloud Run's smallest instance is {RUN_MIN_VCPU} vCPU")
    for d in (p.get("scales") or default_scales()):
        for day in d["days"]:
            if day["hours"] * 3600 > 86_400 - p["idle_shutdown_s"]:
                raise ValueError("a day's quiet hours must outlast the idle shutdown")
    return p


SENSITIVITIES = [
    ("idle shutdown after 2 min instead of 15", {"idle_shutdown_s": RUN_IDLE_SHUTDOWN_SHORT_S}),
    ("a CORS preflight (OPTIONS) before every sign-in", {"preflights_per_signin": 1.0}),
    ("the lockout record rewritten on every sign-in (+1 write)",
     {"writes_per_signin": "+1"}),
    ("20% of sign-ins fail (500 ms floor each)", {"failed_fraction": 0.20}),
    ("256 MiB (first-generation environment)", {"instance": {"memory_mib": 256}}),
    ("0.5 vCPU, 512 MiB, concurrency 1 (first generation)",
     {"instance": {"vcpu": 0.5, "memory_mib": 512, "concurrency_one": True}}),
]


def _vary(measured: dict, change: dict) -> tuple[dict, dict]:
    """The measured inputs with one sensitivity applied; scale-level changes returned apart."""
    varied = dict(measured)
    scale_change = {}
    for key, value in change.items():
        if key == "failed_fraction":
            scale_change[key] = value
        elif key == "instance":
            varied["instance"] = {**measured.get("instance", {}), **value}
        elif isinstance(value, str) and value.startswith("+"):
            varied[key] = measured.get(key, DEFAULTS.get(key, 0)) + float(value[1:])
        else:
            varied[key] = value
    return varied, scale_change


def model(measured: dict) -> dict:
    """Monthly Cloud Run and Firestore costs at each scale of `measured["scales"]` (default: the
    seed's 30,000 term-shaped sign-ins, 1 million and 10 million), with sensitivities."""
    p = _params(measured)
    scales = p.get("scales") or default_scales()
    results = [_scale(p, s) for s in scales]
    for change_label, change in SENSITIVITIES:
        varied, scale_change = _vary(measured, change)
        vp = _params(varied)
        for s, r in zip(scales, results):
            v = _scale(vp, {**s, **scale_change})
            r.setdefault("sensitivity", {})[change_label] = {
                "total_usd": v["total_usd"], "cold_starts": v["cold_starts"],
                "show_cold_starts": "idle_shutdown_s" in change}
    seed = next((r for r in results if r["name"] == "seed"), None)
    one_m = next((r for r in results if r["signins"] == 1_000_000), None)
    targets = []
    if seed:
        targets.append({"target": "the seed's scale inside the free tiers (US$0)",
                        "value": seed["total_usd"], "met": seed["total_usd"] == 0})
    if one_m:
        targets.append({"target": "1 million sign-ins a month under US$2",
                        "value": one_m["total_usd"], "met": one_m["total_usd"] < 2})
    return {
        "prices_as_of": PRICES_AS_OF,
        "measured": {k: measured[k] for k in (
            "cpu_s_per_signin", "wall_s_per_signin", "cold_start_cpu_s", "cold_start_wall_s",
            "rss_mib_peak", "reads_per_signin", "writes_per_signin") if k in measured},
        "params": {k: v for k, v in p.items() if k not in ("scales",)},
        "scales": results,
        "targets": targets,
    }


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def _usd(x: float) -> str:
    if x == 0:
        return "$0"
    if x < 0.01:
        return "<$0.01"
    return f"${x:,.2f}"


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _assumptions(model: dict) -> list[str]:
    p = model["params"]
    inst = p["instance"]
    m = model["measured"]
    rss = m.get("rss_mib_peak")
    fits = (f"firegate's measured peak RSS, {rss:g} MiB, fits" if rss is not None
            else "firegate needs < 100 MB")
    scales = model["scales"]
    failed_shares = ", ".join(f"{s['label']}: {s['failed_share']:.0%}" for s in scales)
    lines = [
        f"One Cloud Run service in a Tier 1 region (us-central1), request-based billing, "
        f"minimum instances 0, {inst['vcpu']:g} vCPU, {inst['memory_mib']} MiB per instance "
        f"({fits}). At 1 vCPU Cloud Run allows 128 MiB–4 GiB in the first-generation "
        f"execution environment and 512 MiB–4 GiB in the second; 256 MiB (what "
        f"deploy/cloud-run.sh deploys) therefore needs the first generation. Below 1 vCPU concurrency "
        f"must be 1 (see the sensitivities).",
        "Billable time: an instance is billed its allocated vCPU and memory (not the CPU it "
        "uses) while at least one request is in flight, while it starts and while it shuts "
        "down; each interval with a request in flight is rounded up to the next 100 ms "
        "(the pricing page says usage is rounded up to the nearest 100 ms; that the rounding "
        "applies to each such interval is this model's reading, not confirmed here).",
        "Requests arrive at random (Poisson) within each day's active hours; concurrency is "
        "never the limit (Cloud Run's default allows far more requests in flight than this "
        "traffic has). Low traffic: every sign-in is its own interval, billed "
        f"ceil({m.get('wall_s_per_signin', 0) * 1e3:.0f} ms) = 100 ms. High traffic: "
        "requests overlap and share billed time: each request keeps the instance billed "
        "for its time in flight rounded up to 100 ms, overlaps billed once, a share "
        "1 − e^(−Σ rate × ceil(wall)) of the active hours. The report shows both limiting "
        "views: "
        "\"every request alone\" (the upper bound) and \"instances at the 60% CPU target\" "
        "(sign-ins × CPU-s ÷ (vCPU × 0.6)); the billable figure lies between CPU-s used and "
        "the first.",
        f"Instances: as many as keep CPU at Cloud Run's 60% autoscaling target "
        f"(capacity {1 / m['cpu_s_per_signin'] if m.get('cpu_s_per_signin') else 0:.0f} "
        f"sign-ins/s per vCPU at 100%); CPU-bound work in flight shares the vCPU, so a "
        f"request's CPU part is stretched by 1/(1 − utilisation).",
        f"Cold starts: each instance starts once each active day (nights and weekends are "
        f"longer than the idle shutdown) and again after any gap between its requests longer "
        f"than {p['idle_shutdown_s'] / 60:g} min (Cloud Run keeps an idle instance at most "
        f"that long; expected gaps = (n − 1)·e^(−rate × {p['idle_shutdown_s']:g} s)). A cold "
        f"sign-in's interval is exec → first response "
        f"({m.get('cold_start_wall_s', 0) * 1e3:.0f} ms, rounded up) instead of the warm "
        f"one; its shutdown is billed {p['shutdown_billed_s'] * 1e3:.0f} ms. Time the "
        f"platform spends before exec (sandbox, image) is not measured and not counted.",
        f"Failed sign-ins: a share of every scale's sign-ins "
        f"({failed_shares}) "
        f"fails; each costs the same CPU and reads, stays in flight "
        f"{p['failure_floor_s'] * 1e3:.0f} ms (firegate's `--failure-floor-ms` default) and "
        f"writes {p['writes_per_failed_signin']} documents (its failure record, and that "
        f"record's clearing at the next success) and deletes "
        f"{p['deletes_per_failed_signin']:g} (the record, by its TTL policy or at the next "
        f"success; at most one per record, so an upper bound).",
        f"Legacy first sign-ins (Werkzeug PBKDF2-260,000 → argon2id) cost "
        f"{p['legacy_extra_cpu_s'] * 1e3:.0f} ms more CPU and "
        f"{p['legacy_extra_wall_s'] * 1e3:.0f} ms more time than a warm one "
        f"(this run's Werkzeug verify, and the write's round trip) and write 1 document.",
        f"Firestore: {m.get('reads_per_signin', 0):g} reads and "
        f"{m.get('writes_per_signin', 0):g} writes per warm sign-in (the reads: login index, "
        f"account and lockout record, src/service/sign_in.rs `authenticate`). Reads "
        f"and writes are counted per day against the daily free quota (per project, (default) "
        f"database); a CORS preflight touches no document. A success from a new or stale "
        f"familiar network rewrites the lockout record (src/lockout.rs, `after_success`, a few "
        f"times per familiar period at most; see the sensitivities).",
        f"Stored data: {p['kib_per_account']:g} KiB per account (account, login index, "
        f"lockout record and their index entries; not measured), priced beyond 1 GiB at the "
        f"$0.18 upper bound.",
        "Region: prices are us-central1's (Cloud Run Tier 1). The deploy commands "
        "use asia-northeast3 (Seoul), whose Cloud Run tier and Firestore prices were not "
        "confirmed here; in a Tier 2 region unit prices are higher and the free tier, a "
        "spending discount at Tier 1 prices, covers fewer seconds.",
        "Free tiers: Cloud Run's is per billing account and month, so any other Cloud Run "
        "service on the same billing account shares it; Firestore's is per project and day "
        "(reset at midnight Pacific time). Egress, logging, Secret Manager, IAM signBlob and "
        "Firebase Auth are not modelled.",
    ]
    for s in scales:
        lines.append(f"Traffic, {s['label']}: {s['shape']}.")
    return lines


def report(model: dict) -> str:
    """The markdown section "## Cost model"."""
    scales = model["scales"]
    m = model["measured"]
    head = "| | " + " | ".join(s["label"] for s in scales) + " |"
    rule = "|---|" + "---|" * len(scales)

    def row(label: str, fmt) -> str:
        return f"| {label} | " + " | ".join(fmt(s) for s in scales) + " |"

    out = ["## Cost model", ""]
    out.append(
        f"What firegate would cost a month on Cloud Run (request-based billing, minimum "
        f"instances 0) with Firestore in us-central1, at list prices read "
        f"{model['prices_as_of']}. Computed by `scripts/bench/cost.py` from this run's "
        f"figures:")
    out += ["", "| input | value |", "|---|---|"]
    names = {
        "cpu_s_per_signin": ("firegate CPU per warm sign-in", lambda v: f"{v * 1e3:.1f} ms"),
        "wall_s_per_signin": ("warm sign-in p50", lambda v: f"{v * 1e3:.1f} ms"),
        "cold_start_cpu_s": ("CPU, exec → first sign-in answered", lambda v: f"{v * 1e3:.1f} ms"),
        "cold_start_wall_s": ("exec → first sign-in answered", lambda v: f"{v * 1e3:.1f} ms"),
        "rss_mib_peak": ("peak RSS", lambda v: f"{v:.1f} MiB"),
        "reads_per_signin": ("Firestore reads per sign-in", lambda v: f"{v:g}"),
        "writes_per_signin": ("Firestore writes per warm sign-in", lambda v: f"{v:g}"),
    }
    for key, (label, fmt) in names.items():
        if key in m:
            out.append(f"| {label} | {fmt(m[key])} |")

    out += ["", f"### Prices (as of {model['prices_as_of']})", "",
            "| item | price | source | |", "|---|---|---|---|"]
    for item, price, source, confirmed in PRICE_ROWS:
        mark = "read on the page" if confirmed else "**not confirmed from the source here**"
        cell = f"<{source}>" if source.startswith("http") else source
        out.append(f"| {item} | {price} | {cell} | {mark} |")
    out += ["", "Figures not confirmed were not visible in the stored copy of the official page "
            "the search returned; secondary pages quoting it agree on each. Re-check "
            "them before relying on a total near a threshold.", ""]

    out += ["### Assumptions", ""]
    out += [f"- {line}" for line in _assumptions(model)]

    out += ["", "### Per scale (a month)", "", head, rule]
    out.append(row("sign-ins", lambda s: _n(s["signins"])))
    out.append(row("requests", lambda s: _n(s["requests"])))
    out.append(row("instances on the busiest day (their CPU use)",
                   lambda s: f"{s['instances_peak']} ({s['cpu_utilisation_peak']:.1%})"))
    out.append(row("cold starts", lambda s: _n(s["cold_starts"])))
    out.append(row("CPU-s firegate uses", lambda s: _n(s["cpu_s_used"])))
    out.append(row("vCPU-s if every request were billed alone",
                   lambda s: _n(s["vcpu_s"]["per_request"])))
    out.append(row("vCPU-s of instances at the 60% CPU target",
                   lambda s: _n(s["vcpu_s"]["capacity"])))
    out.append(row("**billable vCPU-s** (of which cold starts)",
                   lambda s: f"**{_n(s['vcpu_s']['billable'])}** "
                             f"({_n(s['vcpu_s']['cold_starts'])})"))
    out.append(row("billable ÷ used",
                   lambda s: f"{s['vcpu_s']['billable'] / s['cpu_s_used']:.1f}×"))
    out.append(row("billable GiB-s", lambda s: _n(s["gib_s"])))
    out.append(row("Cloud Run before the free tier", lambda s: _usd(s["cloud_run"]["before"])))
    out.append(row("Cloud Run after the free tier", lambda s: _usd(s["cloud_run"]["after"])))
    out.append(row("Firestore reads / writes / deletes, busiest day",
                   lambda s: f"{_n(s['firestore']['peak_day']['reads'])} / "
                             f"{_n(s['firestore']['peak_day']['writes'])} / "
                             f"{_n(s['firestore']['peak_day']['deletes'])}"))
    out.append(row("days over the free 50,000 reads / 20,000 writes / 20,000 deletes",
                   lambda s: f"{s['firestore']['days_over_free_reads']} / "
                             f"{s['firestore']['days_over_free_writes']} / "
                             f"{s['firestore']['days_over_free_deletes']}"))
    out.append(row("Firestore after the daily free quota (storage)",
                   lambda s: f"{_usd(s['firestore']['usd'])} "
                             f"({_usd(s['firestore']['storage_usd'])}, "
                             f"{s['firestore']['stored_gib']:.2f} GiB)"))
    out.append(row("**total US$/month**", lambda s: f"**{_usd(s['total_usd'])}**"))
    out.append(row("US$ per million sign-ins", lambda s: _usd(s["usd_per_million"])))

    out += ["", "### Targets", ""]
    for t in model["targets"]:
        verdict = "met" if t["met"] else "**missed**"
        out.append(f"- {t['target']}: {_usd(t['value'])}, {verdict}")

    labels = list(scales[0].get("sensitivity", {}))
    if labels:
        out += ["", "### Sensitivity (total US$/month)", "", "| variation | " +
                " | ".join(s["label"] for s in scales) + " |", rule,
                "| as above | " + " | ".join(_usd(s["total_usd"]) for s in scales) + " |"]
        for label in labels:
            cells = []
            for s in scales:
                v = s["sensitivity"][label]
                extra = f" ({_n(v['cold_starts'])} cold starts)" if v["show_cold_starts"] else ""
                cells.append(_usd(v["total_usd"]) + extra)
            out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def summary_table(model: dict) -> str:
    """A compact table for the book's benchmarks page."""
    out = [f"| sign-ins a month | CPU-s used → billable vCPU-s | Cloud Run | Firestore | "
           f"total | per million |", "|---|---|---|---|---|---|"]
    for s in model["scales"]:
        out.append(
            f"| {s['label']} | {_n(s['cpu_s_used'])} → {_n(s['vcpu_s']['billable'])} | "
            f"{_usd(s['cloud_run']['after'])} | {_usd(s['firestore']['usd'])} | "
            f"**{_usd(s['total_usd'])}** | {_usd(s['usd_per_million'])} |")
    targets = "; ".join(f"{t['target']}: {'met' if t['met'] else 'missed'}"
                        for t in model["targets"])
    targets = f"Targets: {targets}" if targets else ""
    out.append("")
    out.append(f"List prices of {model['prices_as_of']} (Cloud Run Tier 1, request-based "
               f"billing, after the free tiers; Firestore us-central1). {targets}.")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Self-check: the arithmetic on hand-computed cases
# ---------------------------------------------------------------------------------------------


def _close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def self_check() -> None:
    # Rounding: 30 ms and 100 ms are one granule, 101 ms two, 0 nothing.
    assert _close(ceil_granule(0.030), 0.1)
    assert _close(ceil_granule(0.1), 0.1)
    assert _close(ceil_granule(0.101), 0.2)
    assert ceil_granule(0.0) == 0.0
    # 1 million sign-ins, each its own 100 ms interval at 1 vCPU: 100,000 vCPU-s, inside the
    # free 180,000, so the CPU costs nothing; 50,000 GiB-s at 512 MiB, inside 360,000.
    vcpu_s = per_request_view(1_000_000, 0.030)
    assert _close(vcpu_s, 100_000)
    bill = cloud_run_cost(vcpu_s, vcpu_s * 0.5, 1_000_000)
    assert bill["after"] == 0 and bill["cpu_after"] == 0
    assert _close(bill["before"], 100_000 * 0.000024 + 50_000 * 0.0000025 + 0.40)  # $2.525
    # Past the free tier: 280,000 vCPU-s → 100,000 × $0.000024 = $2.40; 3 M requests →
    # 1 M × $0.40 per million = $0.40; 140,000 GiB-s free.
    bill = cloud_run_cost(280_000, 140_000, 3_000_000)
    assert _close(bill["cpu_after"], 2.40) and _close(bill["requests_after"], 0.40)
    assert bill["memory_after"] == 0 and _close(bill["after"], 2.80)
    # Firestore, one day: 60,000 reads and 25,000 writes → 10,000 × $0.03/100k + 5,000 ×
    # $0.09/100k = $0.003 + $0.0045.
    assert _close(firestore_day_cost(60_000, 25_000), 0.0075)
    assert firestore_day_cost(50_000, 20_000, 20_000) == 0
    assert _close(firestore_day_cost(0, 0, 25_000), 5_000 * 0.01 / 100_000)
    # Busy periods: at a trickle every request is billed alone (per-request view) …
    trickle = busy_billing([{"rate": 1e-4, "wall": 0.030}])
    assert _close(trickle, 1e-4 * 0.1, rel=1e-3)
    # … two kinds at a trickle: each billed its own rounding (500 ms floor → 0.5 s).
    trickle2 = busy_billing([{"rate": 1e-4, "wall": 0.030}, {"rate": 1e-5, "wall": 0.5}])
    assert _close(trickle2, 1e-4 * 0.1 + 1e-5 * 0.5, rel=1e-3)
    # … and under heavy load the instance is billed nearly all the time, never more.
    assert 0.99 < busy_billing([{"rate": 200, "wall": 0.05}]) <= 1.0
    # 10/s of 30 ms requests: 1 − e^−(10 × 0.1) = 63.2% of the time billed.
    assert _close(busy_billing([{"rate": 10, "wall": 0.03}]), 1 - math.exp(-1.0))
    # The billed share rises with load.
    shares = [busy_billing([{"rate": r, "wall": 0.03}]) for r in (0.1, 1, 5, 20, 50)]
    assert all(a < b for a, b in zip(shares, shares[1:]))
    # A whole scale: 1 M sign-ins at a trickle, no failures or cold-start extras, reduces to
    # the per-request view.
    p = _params({"cpu_s_per_signin": 0.026, "wall_s_per_signin": 0.030,
                 "cold_start_cpu_s": 0.026, "cold_start_wall_s": 0.030,
                 "reads_per_signin": 2, "writes_per_signin": 0, "shutdown_billed_s": 0.0})
    flat = {"name": "flat", "label": "flat", "shape": "", "signins": 1_000_000,
            "failed_fraction": 0.0, "accounts": 0,
            "days": [{"label": "d", "count": 1000, "signins": 1000, "hours": 20, "legacy": 0}]}
    r = _scale(p, flat)
    assert _close(r["vcpu_s"]["billable"], 100_000, rel=0.01), r["vcpu_s"]
    assert _close(r["vcpu_s"]["per_request"], 100_000)
    assert _close(r["cpu_s_used"], 26_000)
    assert r["cloud_run"]["after"] == 0
    # Firestore: 1,000 sign-ins a day × 2 reads, inside the daily quota.
    assert r["firestore"]["operations_usd"] == 0 and r["firestore"]["peak_day"]["reads"] == 2000


EXAMPLE = {
    "cpu_s_per_signin": 0.026,
    "wall_s_per_signin": 0.030,
    "cold_start_cpu_s": 0.06,
    "cold_start_wall_s": 0.085,
    "rss_mib_peak": 80,
    "reads_per_signin": 2,
    "writes_per_signin": 0,
}


if __name__ == "__main__":
    self_check()
    result = model(EXAMPLE)
    for s in result["scales"]:
        b = s["vcpu_s"]
        assert s["cpu_s_used"] <= b["billable"] <= b["per_request"] + 1e-6, s["name"]
    print(report(result))
    print(summary_table(result))
