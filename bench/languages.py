"""The languages' row of the benchmark (`bench/run.py` calls `measure`).

The password-reset page, asked for `n` times by a Korean browser (`Accept-Language: ko-KR,ko;q=0.9`)
and `n` times by an English one, on one warm server: what choosing a language and writing the
page from its catalog costs beside the English page (both come from the catalogs).
"""

import http.client, time

KOREAN = "ko-KR,ko;q=0.9,en-US;q=0.8"
ENGLISH = "en-US,en;q=0.9"


def pages(server, accept_language, n):
    """`n` sequential GET /password-reset/: latency in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", "/password-reset/", headers={"Accept-Language": accept_language})
        response = conn.getresponse()
        body = response.read()
        samples.append((time.perf_counter() - t) * 1e3)
        if response.status != 200:
            raise SystemExit(f"error: the reset page answered {response.status}")
    want = 'lang="ko"' if accept_language == KOREAN else 'lang="en"'
    if want.encode() not in body:
        raise SystemExit(f"error: the reset page for {accept_language} is not {want}")
    conn.close()
    return samples


def measure(run, binary, env, n):
    """The reset page in Korean and in English, alternating rounds; `run` is the driver module
    (its `Server`, `stop` and `stats`)."""
    server = run.Server([binary], env, "--mail-url", "log", "--public-url", "http://127.0.0.1")
    try:
        pages(server, KOREAN, 5), pages(server, ENGLISH, 5)
        korean, english = [], []
        for _ in range(4):
            korean += pages(server, KOREAN, max(1, n // 4))
            english += pages(server, ENGLISH, max(1, n // 4))
    finally:
        run.stop(server.proc)
    return {"korean": run.stats(korean), "english": run.stats(english)}


def rows(r):
    """The summary's row: the Korean page beside the English one."""
    p = r.get("languages")
    if p is None:
        return []
    return [("reset page p50, Korean browser (`Accept-Language: ko-KR`)", p["korean"]["p50"], "ms",
             p["english"]["p50"], f"the English page: {p['english']['p50']:.2f} ms", "≤ 1.2")]
