#!/usr/bin/env python3
"""firegate's benchmark peers (standard library only): the same sign-in written the two other
ways, measured the way the driver (`run.py`) measures firegate.

- `python`: the seed's design. FastAPI on uvicorn with firebase_admin and Werkzeug
  (`peers/python/server.py`, pinned in `peers/python/requirements.txt`).
- `node`: what a Firebase developer writes instead. A plain `node:http` server with
  firebase-admin and node:crypto's PBKDF2 (`peers/node/server.mjs`, pinned in
  `peers/node/package-lock.json`).

Both read `firegate_logins/{login}` and `firegate_accounts/{uid}` from the Firestore emulator,
check the Werkzeug `pbkdf2:sha256:260000` hash, mint a custom token with the key file's private
key and answer `{"token", "uid"}`; neither writes anything, so one seeded account serves every
run. The driver uses:

    import peers
    installed = peers.install(workdir)                      # venv + npm ci, cached
    results = peers.measure(env, key_file, login, password, cold_runs, warm_n, workdir)
    text = peers.report(results, {"cold_ms": ..., "warm_p50_ms": ...,
                                  "cpu_ms_per_login": ..., "rss_mib": ...})

Standalone, it starts its own emulator and measures firegate on fresh Werkzeug accounts too:

    python3 scripts/bench/peers.py --bin target/release [--cold-runs 5] [--warm-n 100]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCES = HERE / "peers"
OUT = ROOT / "target/bench-peers"
WARMUP = 50

LABELS = {
    "python": "Python: FastAPI + uvicorn, firebase_admin, Werkzeug",
    "node": "Node.js: `node:http`, firebase-admin, `node:crypto` PBKDF2",
}
# Variables that would make a peer talk to something other than the emulator and its key file
# (or, for FIREBASE_AUTH_EMULATOR_HOST, mint unsigned tokens).
DROPPED = ("PORT", "GOOGLE_APPLICATION_CREDENTIALS", "FIREBASE_AUTH_EMULATOR_HOST",
           "FIREBASE_CONFIG", "FIREBASE_STORAGE_EMULATOR_HOST", "FIREBASE_DATABASE_EMULATOR_HOST",
           "GOOGLE_CLOUD_QUOTA_PROJECT", "CLOUDSDK_CONFIG", "NODE_OPTIONS", "PYTHONPATH")


def driver():
    """The benchmark driver's module: the running `run.py` when it is the main program (so its
    CHILDREN and BINARY are the ones it uses), else `run` imported from beside this file."""
    main = sys.modules.get("__main__")
    if Path(getattr(main, "__file__", "") or "").name == "run.py" and hasattr(main, "cold_run"):
        return main
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import run
    return run


def log(message: str) -> None:
    print(f"[peers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sha256(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def sh(cmd: list, logfile: Path, **kw) -> None:
    with open(logfile, "a") as out:
        out.write(f"$ {' '.join(map(str, cmd))}\n")
        out.flush()
        result = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, **kw)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, cmd))} failed ({result.returncode}); see {logfile}")


# ---------------------------------------------------------------------------------------------
# Install


def install(workdir: Path) -> dict:
    """The Python peer's venv (target/bench-peers/venv) and the Node peer's node_modules (npm ci
    in a copy, target/bench-peers/node), each reused while its pins are unchanged. Returns, per
    peer, the command that starts it (`cmd`, then `serve --listen 127.0.0.1:PORT` or env PORT),
    the `launcher` the driver's cold_run execs, and the versions that run."""
    workdir.mkdir(parents=True, exist_ok=True)
    logfile = workdir / "peers-install.log"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bin").mkdir(exist_ok=True)

    # Python: python3 -m venv + pip install -r requirements.txt.
    requirements = SOURCES / "python/requirements.txt"
    venv = OUT / "venv"
    python = venv / "bin/python"
    stamp = venv / ".firegate-requirements.sha256"
    wanted = f"{sha256(requirements)} {sys.executable} {sys.version.split()[0]}"
    if not (python.exists() and stamp.exists() and stamp.read_text() == wanted):
        log(f"installing the Python peer into {venv} (log {logfile})")
        sh([sys.executable, "-m", "venv", "--clear", venv], logfile)
        sh([python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q",
            "-r", requirements], logfile)
        stamp.write_text(wanted)
    server_py = SOURCES / "python/server.py"

    # Node: npm ci in a copy, so the source tree gets no node_modules.
    node_dir = OUT / "node"
    node_dir.mkdir(exist_ok=True)
    for name in ("package.json", "package-lock.json", "server.mjs"):
        shutil.copyfile(SOURCES / "node" / name, node_dir / name)
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        sys.exit("error: the Node peer needs node and npm (Debian: apt-get install nodejs npm)")
    lock_stamp = node_dir / "node_modules/.firegate-lock.sha256"
    wanted = sha256(node_dir / "package.json", node_dir / "package-lock.json")
    if not (lock_stamp.exists() and lock_stamp.read_text() == wanted):
        log(f"installing the Node peer into {node_dir} (npm ci; log {logfile})")
        sh([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], logfile, cwd=node_dir)
        lock_stamp.write_text(wanted)
    server_mjs = node_dir / "server.mjs"

    # Launchers: one execve each (the kernel reads the #! line, no shell in between), taking the
    # same `serve --listen 127.0.0.1:PORT` arguments as firegate, so run.py's cold_run starts a
    # peer exactly as it starts firegate.
    py_launcher = OUT / "bin/python-peer"
    py_launcher.write_text(f"#!{python}\nimport runpy\nrunpy.run_path({str(server_py)!r}, "
                           "run_name='__main__')\n")
    node_launcher = OUT / "bin/node-peer"
    node_launcher.write_text(f"#!{node}\nimport({server_mjs.as_uri()!r});\n")
    for launcher in (py_launcher, node_launcher):
        launcher.chmod(0o755)
        if len(str(launcher.read_text().splitlines()[0])) > 255:
            sys.exit(f"error: the #! line of {launcher} is longer than the kernel reads")

    pins = {}
    for line in requirements.read_text().splitlines():
        name, _, version = line.partition("==")
        if version:
            pins[name.split("[")[0].lower().replace("_", "-")] = version.strip()
    py_version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                capture_output=True, text=True, check=True).stdout.strip()
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                  check=True).stdout.strip().lstrip("v")

    def npm_version(package: str) -> str:
        return json.loads((node_dir / "node_modules" / package / "package.json").read_text())["version"]

    return {
        "python": {
            "label": LABELS["python"],
            "cmd": [str(python), str(server_py)],
            "launcher": str(py_launcher),
            "versions": {"Python": py_version,
                         **{k: pins[k] for k in ("fastapi", "uvicorn", "firebase-admin", "werkzeug",
                                                 "google-cloud-firestore", "grpcio") if k in pins}},
        },
        "node": {
            "label": LABELS["node"],
            "cmd": [node, str(server_mjs)],
            "launcher": str(node_launcher),
            "versions": {"Node.js": node_version,
                         "firebase-admin": npm_version("firebase-admin"),
                         "@google-cloud/firestore": npm_version("@google-cloud/firestore"),
                         "@grpc/grpc-js": npm_version("@grpc/grpc-js")},
        },
    }


# ---------------------------------------------------------------------------------------------
# Measure


def peer_env(env: dict, key_file: Path) -> dict[str, str]:
    """The machine's environment less firegate's and Google's settings, plus `env` (the
    emulator host, the project id), the key file, and the project id from it where `env` has
    none."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("FIREGATE_") and k not in DROPPED}
    out.update({k: v for k, v in env.items() if not k.startswith("FIREGATE_") and k not in DROPPED})
    if "FIRESTORE_EMULATOR_HOST" not in out:
        sys.exit("error: the peers are measured against the Firestore emulator only; "
                 "env has no FIRESTORE_EMULATOR_HOST")
    project = out.get("GOOGLE_CLOUD_PROJECT") or out.get("GCLOUD_PROJECT") \
        or json.loads(Path(key_file).read_text())["project_id"]
    out.update({"GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
                "GOOGLE_CLOUD_PROJECT": project, "GCLOUD_PROJECT": project})
    return out


@contextlib.contextmanager
def executing(run, launcher: str):
    """run.py's cold_run execs `BINARY serve --listen 127.0.0.1:PORT`: point it at a peer."""
    saved = run.BINARY
    run.BINARY = Path(launcher)
    try:
        yield
    finally:
        run.BINARY = saved


def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", "/login/", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def warm(run, peer: dict, env: dict[str, str], body: bytes, n: int, logfile: Path) -> dict:
    """One process: WARMUP logins, then `n` sequential timed logins on one keep-alive
    connection; CPU seconds of the process (all threads) over the `n`, RSS after them."""
    port = run.free_port()
    with open(logfile, "w") as out:
        proc = subprocess.Popen([peer["launcher"], "serve", "--listen", f"127.0.0.1:{port}"],
                                env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
    run.CHILDREN.append(proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    sys.exit(f"error: peer {peer['label']} exited with {proc.returncode}; see {logfile}")
                if time.monotonic() > deadline:
                    sys.exit(f"error: peer {peer['label']} did not listen within 30 s; see {logfile}")
                time.sleep(0.01)
        idle = run.proc_status(proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(WARMUP):
            status, data = post(conn, body)
            if status != 200:
                sys.exit(f"error: peer {peer['label']} answered {status} {data[:200]!r}; see {logfile}")
        token = json.loads(data)["token"]
        samples = []
        cpu0 = run.cpu_seconds(proc.pid)
        for _ in range(n):
            t = time.perf_counter_ns()
            status, data = post(conn, body)
            samples.append((time.perf_counter_ns() - t) / 1e6)
            if status != 200:
                sys.exit(f"error: peer {peer['label']} answered {status} {data[:200]!r}; see {logfile}")
        cpu = run.cpu_seconds(proc.pid) - cpu0
        mem = run.proc_status(proc.pid)
        conn.close()
    finally:
        run.stop(proc)
    return {"latency": run.summary(samples), "cpu_ms_per_login": cpu / n * 1e3,
            "rss_mib": mem["VmRSS"] / 1024, "hwm_mib": mem["VmHWM"] / 1024,
            "idle_rss_mib": idle["VmRSS"] / 1024, "token_parts": token.count(".") + 1}


def measure(env: dict, key_file: Path, login: str, password: str, cold_runs: int, warm_n: int,
            workdir: Path, peers: dict | None = None) -> dict:
    """Per peer: cold start with run.py's own cold_run (clock started before exec, connect()
    polled every 0.2 ms, the login sent on the first connection that succeeds, clock stopped at
    the response's last byte), `cold_runs` counted runs of a fresh process each after one
    uncounted run that warms the page cache; then warm latency, CPU and RSS of one process
    (`warm`). `peers` is install()'s answer (installed here when omitted). The account is only
    read, never changed."""
    run = driver()
    peers = peers or install(workdir)
    env = peer_env(env, Path(key_file))
    body = run.login_body(login, password)
    request = run.http_request("POST", "/login/", body)
    results = {}
    for name, peer in peers.items():
        logfile = workdir / f"peer-{name}-cold.log"
        runs = []
        log(f"{name}: {cold_runs} cold starts")
        with executing(run, peer["launcher"]):
            for i in range(cold_runs + 1):
                r = run.cold_run(env, request, logfile)
                if r["status"] != 200:
                    sys.exit(f"error: cold login to peer {name} answered {r['status']}; see {logfile}")
                if i > 0:
                    runs.append(r)
                time.sleep(0.05)
        log(f"{name}: {WARMUP} warm-up and {warm_n} timed logins")
        w = warm(run, peer, env, body, warm_n, workdir / f"peer-{name}-warm.log")
        results[name] = {
            "label": peer["label"], "versions": peer["versions"],
            "cold": {"accept": run.summary([r["accept_ms"] for r in runs]),
                     "done": run.summary([r["done_ms"] for r in runs])},
            "warm": w["latency"], "warm_n": warm_n, "cold_runs": cold_runs,
            "cpu_ms_per_login": w["cpu_ms_per_login"], "rss_mib": w["rss_mib"],
            "hwm_mib": w["hwm_mib"], "idle_rss_mib": w["idle_rss_mib"],
        }
    return results


# ---------------------------------------------------------------------------------------------
# Report


def report(results: dict, firegate: dict) -> str:
    """The "## Peers" section: each peer's figures, then firegate's divided by each peer's.
    `firegate`: cold_ms, warm_p50_ms, cpu_ms_per_login, rss_mib for a Werkzeug account
    (optional: label, note)."""
    any_peer = next(iter(results.values()))
    versions = "; ".join(
        f"{r['label'].split(':')[0]}: " + ", ".join(f"{k} {v}" for k, v in r["versions"].items())
        for r in results.values())
    out = ["## Peers", "",
           "The same sign-in written the two other ways, against the same emulator and key file "
           "and a Werkzeug `pbkdf2:sha256:260000` account of its own (the peers only read it): "
           "the seed's design, a FastAPI app with firebase_admin and Werkzeug "
           "(`scripts/bench/peers/python`), and what a Firebase developer writes instead, a "
           "`node:http` server with firebase-admin that checks the hash with `node:crypto` "
           "(`scripts/bench/peers/node`). Both read the login-index and account documents over "
           "gRPC and sign the custom token with the key file's private key, as firegate does. "
           f"Versions: {versions}.", "",
           f"Cold start: run.py's own launcher, clock started before exec, the login sent on the "
           f"first connection that succeeds, {any_peer['cold_runs']} runs of a fresh process after "
           f"one uncounted one; median (min–max). Warm: one process, {WARMUP} logins first, then "
           f"{any_peer['warm_n']} sequential logins on one keep-alive connection; CPU is the "
           "process's user + system time (all threads) over those logins, RSS is `VmRSS` after "
           "them.", "",
           "| server | cold start (exec → first login) | warm p50 (p90) | CPU per login | RSS |",
           "|---|---|---|---|---|"]
    fg_label = firegate.get("label", "firegate")
    cold_range = ""
    if "cold_min_ms" in firegate and "cold_max_ms" in firegate:
        cold_range = f" ({firegate['cold_min_ms']:.0f}–{firegate['cold_max_ms']:.0f})"
    warm_p90 = f" ({firegate['warm_p90_ms']:.1f})" if "warm_p90_ms" in firegate else ""
    out.append(f"| {fg_label} | {firegate['cold_ms']:.0f} ms{cold_range} | "
               f"{firegate['warm_p50_ms']:.1f} ms{warm_p90} | "
               f"{firegate['cpu_ms_per_login']:.1f} ms | {firegate['rss_mib']:.1f} MiB |")
    for r in results.values():
        c, w = r["cold"]["done"], r["warm"]
        out.append(f"| {r['label']} | {c['median']:.0f} ms ({c['min']:.0f}–{c['max']:.0f}) | "
                   f"{w['median']:.1f} ms ({w['p90']:.1f}) | {r['cpu_ms_per_login']:.1f} ms | "
                   f"{r['rss_mib']:.1f} MiB |")
    out += ["", "firegate's figure divided by the peer's (below 1: firegate is faster or smaller):",
            "", "| peer | cold start | warm p50 | CPU per login | RSS |", "|---|---|---|---|---|"]

    def ratio(value: float, peer: float) -> str:
        return f"{value / peer:.2f}×" if peer else "—"

    for r in results.values():
        out.append(f"| {r['label']} | {ratio(firegate['cold_ms'], r['cold']['done']['median'])} | "
                   f"{ratio(firegate['warm_p50_ms'], r['warm']['median'])} | "
                   f"{ratio(firegate['cpu_ms_per_login'], r['cpu_ms_per_login'])} | "
                   f"{ratio(firegate['rss_mib'], r['rss_mib'])} |")
    accept = ", ".join(f"{r['label'].split(':')[0]} {r['cold']['accept']['median']:.0f} ms"
                       for r in results.values())
    idle = ", ".join(f"{r['label'].split(':')[0]} {r['idle_rss_mib']:.1f} MiB"
                     for r in results.values())
    out += ["", f"Exec → accepting connections (median): {accept}; the rest of a cold start is the "
            f"first request. RSS when first accepting, before any login: {idle}."]
    if firegate.get("note"):
        out += ["", firegate["note"]]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Standalone: own emulator, firegate measured on fresh Werkzeug accounts for the ratios


def firegate_werkzeug(run, emulator, keys_dir: Path, cold_runs: int, warm_n: int,
                      workdir: Path) -> dict:
    """firegate's figures for Werkzeug accounts: every login is a different, never-used
    account (firegate replaces a Werkzeug hash with argon2id at the first sign-in)."""
    users = [f"fg-legacy{i:04d}" for i in range(cold_runs + 1 + WARMUP + warm_n)]
    run.seed_werkzeug(emulator, users)
    env = run.server_env(emulator, keys_dir)
    runs = []
    logfile = workdir / "firegate-cold.log"
    for i in range(cold_runs + 1):
        r = run.cold_run(env, run.http_request("POST", "/login/",
                                               run.login_body(users[i], run.LEGACY_PASSWORD)), logfile)
        if r["status"] != 200:
            sys.exit(f"error: cold firegate login answered {r['status']}; see {logfile}")
        if i > 0:
            runs.append(r["done_ms"])
        time.sleep(0.05)
    server = run.Server(env, workdir / "firegate-warm.log")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        rest = users[cold_runs + 1:]
        for user in rest[:WARMUP]:
            status, data = post(conn, run.login_body(user, run.LEGACY_PASSWORD))
            if status != 200:
                sys.exit(f"error: firegate answered {status} {data[:200]!r}")
        samples = []
        cpu0 = run.cpu_seconds(server.proc.pid)
        for user in rest[WARMUP:]:
            t = time.perf_counter_ns()
            status, data = post(conn, run.login_body(user, run.LEGACY_PASSWORD))
            samples.append((time.perf_counter_ns() - t) / 1e6)
            if status != 200:
                sys.exit(f"error: firegate answered {status} {data[:200]!r}")
        cpu = run.cpu_seconds(server.proc.pid) - cpu0
        mem = server.memory()
        conn.close()
    finally:
        server.stop()
    cold, lat = run.summary(runs), run.summary(samples)
    return {"label": f"firegate (`{run.BINARY.parent.name}` build)", "cold_ms": cold["median"],
            "cold_min_ms": cold["min"], "cold_max_ms": cold["max"],
            "warm_p50_ms": lat["median"], "warm_p90_ms": lat["p90"],
            "cpu_ms_per_login": cpu / len(samples) * 1e3, "rss_mib": mem["rss_mib"],
            "note": "firegate's row: a fresh Werkzeug account for every login (its first sign-in "
                    "also rehashes the password with argon2id and writes it back), measured in "
                    "the same run the same way."}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = ROOT / "target/release"
    if not (default_bin / "firegate").exists():
        default_bin = ROOT / "target/debug"
    parser.add_argument("--bin", type=Path, default=default_bin,
                        help=f"directory with firegate (default {default_bin.relative_to(ROOT)})")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--warm-n", type=int, default=100)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--no-firegate", action="store_true",
                        help="measure only the peers (the ratios then have no firegate figures)")
    args = parser.parse_args()

    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run = driver()
    run.BIN_DIR = args.bin.resolve()
    run.BINARY = run.BIN_DIR / "firegate"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="firegate-peers-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"work directory {workdir}")
    peers = install(workdir)
    emulator = None
    try:
        emulator = run.Emulator(workdir, None)
        keys_dir = workdir / "keys"
        run.write_key(keys_dir)
        login = "peer-legacy@example.com"
        run.seed_werkzeug(emulator, [login])
        env = {"FIRESTORE_EMULATOR_HOST": emulator.host,
               "GOOGLE_CLOUD_PROJECT": run.PROJECT, "GCLOUD_PROJECT": run.PROJECT}
        results = measure(env, keys_dir / "bench.json", login, run.LEGACY_PASSWORD,
                          args.cold_runs, args.warm_n, workdir, peers)
        if args.no_firegate:
            firegate = {"label": "firegate (not measured)", "cold_ms": 0.0, "warm_p50_ms": 0.0,
                        "cpu_ms_per_login": 0.0, "rss_mib": 0.0}
        else:
            log(f"firegate: {args.cold_runs} cold starts, {WARMUP} + {args.warm_n} warm logins")
            firegate = firegate_werkzeug(run, emulator, keys_dir, args.cold_runs, args.warm_n,
                                         workdir)
    finally:
        run.stop_all()
        if emulator:
            emulator.log.close()
    (workdir / "peers.json").write_text(json.dumps({"peers": results, "firegate": firegate},
                                                   indent=2))
    print(report(results, firegate))
    log(f"raw results and logs in {workdir}")


if __name__ == "__main__":
    try:
        main()
    finally:
        if "run" in sys.modules:
            sys.modules["run"].stop_all()
