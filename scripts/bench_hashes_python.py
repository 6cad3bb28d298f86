#!/usr/bin/env python3
"""Median time of Python's hashlib.pbkdf2_hmac for the Werkzeug pbkdf2:sha256:260000
fixture hash, the reference that `cargo bench --bench hashes` is compared against.
Standard library only."""

import hashlib
import json
import pathlib
import statistics
import time

FIXTURE = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/legacy-hashes.jsonl"


def main() -> None:
    line = next(
        row
        for row in map(json.loads, FIXTURE.read_text(encoding="utf-8").splitlines())
        if row["scheme"] == "pbkdf2:sha256:260000" and row["source"].startswith("werkzeug 2.2")
    )
    method, salt, expected = line["hash"].split("$", 2)
    rounds = int(method.split(":")[2])
    password = line["password"].encode()

    def run() -> str:
        return hashlib.pbkdf2_hmac("sha256", password, salt.encode(), rounds).hex()

    assert run() == expected, "fixture password must verify"
    samples = []
    started = time.perf_counter()
    while len(samples) < 5 or time.perf_counter() - started < 2:
        t = time.perf_counter()
        run()
        samples.append(time.perf_counter() - t)
    print(
        f"python hashlib pbkdf2_hmac sha256 {rounds}  median "
        f"{statistics.median(samples) * 1e3:9.3f} ms  ({len(samples)} runs)"
    )


if __name__ == "__main__":
    main()
