"""What the Python generators share: the database they write to, the psql exports and the
manifest the Rust side reads (one per dataset: the framework, its exports with the flags
`firegate import` takes for each, the databases an import can read directly, and every user
with the passwords the framework accepts)."""

import argparse
import json
import os
import subprocess


def arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", required=True, help="dataset name, also the database name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="PostgreSQL port")
    parser.add_argument("--out", required=True, help="directory for the exports and manifest.json")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


def create_database(args):
    """A fresh database named after the dataset (dropped first if a run left one)."""
    import psycopg

    with psycopg.connect(
        host=args.host, port=args.port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'drop database if exists "{args.dataset}"')
        conn.execute(f'create database "{args.dataset}"')


def psql(args, command, stdout=None, rows_only=False):
    """Runs one psql command (`\\copy …`, or a query whose rows go to `stdout` unaligned
    with `rows_only`) on the dataset's database."""
    subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", *(["-At"] if rows_only else []),
         "-h", args.host, "-p", str(args.port), "-U", "postgres", "-d", args.dataset,
         "-c", command],
        check=True,
        stdout=stdout,
    )


def postgres(args, preset, name=None, edit=None, flags=()):
    """The dataset's PostgreSQL database as `firegate import --from` reads it: with `preset`,
    or with the preset's query edited (`edit`: the text to replace and its replacement)."""
    import psycopg

    with psycopg.connect(host=args.host, port=args.port, user="postgres",
                         dbname=args.dataset) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    return database(
        name or f"PostgreSQL --preset {preset}",
        f"postgres://postgres@{args.host}:{args.port}/{args.dataset}",
        preset, f"PostgreSQL {version}", edit, flags)


def database(name, url, preset, server, edit=None, flags=()):
    """A manifest's database entry: a path of its own in the results table."""
    entry = {"name": name, "url": url, "preset": preset, "server": server, "flags": list(flags)}
    if edit:
        entry["edit"] = {"replace": edit[0], "with": edit[1]}
    return entry


class Users:
    """The manifest's users, each checked against the framework's own login before it is
    written: every variant must sign in exactly when the password does, the wrong password
    never."""

    def __init__(self, login):
        # login(identifier, typed) -> bool: the framework's own decision.
        self.login = login
        self.users = []

    def add(self, id, username, email, logins, password, note, variants=(), wrong=None):
        wrong = wrong if wrong is not None else password + "x"
        can_sign_in = self.login(logins[0], password)
        for login in logins:
            for typed in [password, *variants]:
                got = self.login(login, typed)
                assert got == can_sign_in, f"{note}: {login!r} with {typed!r} gave {got}"
            assert not self.login(login, wrong), f"{note}: {login!r} accepts the wrong password"
        self.users.append({
            "id": str(id),
            "username": username,
            "email": email,
            "logins": logins,
            "password": password,
            "variants": list(variants),
            "wrong": wrong,
            "can_sign_in": can_sign_in,
            "note": note,
        })


def write_manifest(args, framework, version, exports, users, databases):
    manifest = {
        "dataset": args.dataset,
        "framework": framework,
        "version": version,
        "exports": exports,
        "databases": databases,
        # Exports list the rows in id order, as the manifest does.
        "users": sorted(users.users, key=lambda u: int(u["id"])),
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
