"""The legacy verify hook's rows of the benchmark (`bench/run.py` calls `measure`).

The tests' hook stand-in (`bench/hook_standin.rs`, the module of `tests/it/hook_standin.rs`)
checks each request's signature, waits `LATENCY_MS` and answers `{"valid": true}`. Accounts
imported with `--hash external` sign in through it for the first time: firegate's part is the
sign-in's latency minus `LATENCY_MS` — its reads, the call, one argon2id hash and the write
that stores it (the stand-in's own parsing is counted in firegate's part, so it is an upper
bound). Their second sign-ins are ordinary argon2id sign-ins and must not ask the hook.
"""

import secrets, statistics, subprocess
from pathlib import Path

LATENCY_MS = 20
PASSWORD = "legacy-hook-password-1"


def standin(run, binary, logins):
    """The stand-in beside `binary` (built with it: `cargo build --example hook_standin`), else
    through cargo; its process, URL and secret file."""
    built = Path(binary).resolve().parent / "examples/hook_standin"
    command = [built] if built.exists() else ["cargo", "run", "-q", "--release", "--example", "hook_standin", "--"]
    proc = run.spawn([*command, LATENCY_MS, PASSWORD, *logins], None, cwd=run.ROOT, stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, text=True)
    _, url, secret_file = proc.stdout.readline().split()
    return proc, url, secret_file


def measure(run, binary, env, work, n):
    """`n` first sign-ins through the hook and the same accounts' second sign-ins; `run` is
    the driver module (its `Server`, `firegate`, `login_body`, `spawn` and `stats`)."""
    logins = [f"hook-{i}-{secrets.token_hex(3)}" for i in range(n)]
    csv = work / "hook.csv"
    csv.write_text("id,username\n" + "".join(f"{u},{u}\n" for u in logins))
    run.firegate(binary, env, "import", str(csv), "--hash", "external")
    hook, url, secret_file = standin(run, binary, logins)
    server = run.Server([binary], env, "--legacy-verify-url", url, "--legacy-verify-secret-file", secret_file)
    try:
        firsts, cpu = zip(*(server.sign_ins(run.login_body(login, PASSWORD), 1) for login in logins))
        later = [server.sign_ins(run.login_body(login, PASSWORD), 1)[0]["p50"] for login in logins]
    finally:
        run.stop(server.proc)
        hook.stdin.close()
        calls = hook.stdout.read().strip()
        run.stop(hook)
    if calls != f"calls {n}":
        raise SystemExit(f"error: {n} accounts moving off the legacy system made the hook answer {calls!r}")
    return {"latency_ms": LATENCY_MS, "added": run.stats([f["p50"] - LATENCY_MS for f in firsts]),
            "cpu_ms": statistics.median(cpu), "later": run.stats(later)}


def rows(r, warm_p50, argon2_ms):
    """The summary's rows: a first sign-in through the hook, and the sign-ins after it."""
    h = r.get("hook")
    if h is None or warm_p50 is None:
        return []
    hash_ms = f"{argon2_ms:.1f} ms" if argon2_ms is not None else "not measured in a smoke run"
    return [(f"first sign-in through a verify hook that takes {h['latency_ms']} ms: firegate's part "
             f"(latency − {h['latency_ms']} ms)", h["added"]["p50"], "ms", warm_p50 + 2,
             f"2 ms + a warm argon2id sign-in ({warm_p50:.1f} ms: its Firestore reads and one argon2id "
             f"verify; one argon2id hash: {hash_ms})", "≤ 1"),
            ("the same accounts' second sign-in (the hook not asked)", h["later"]["p50"], "ms", warm_p50,
             "a warm argon2id sign-in", "≤ 1.2")]
