"""A Flask app's user table written by the app itself: a Flask-SQLAlchemy model in
PostgreSQL whose passwords come from Werkzeug's `generate_password_hash`, with its default
method and each method this Werkzeug version offers, and the edge cases real tables have.
Exported with `psql \\copy … csv header` and as JSON Lines (`row_to_json`), and read directly
with `--preset flask` and with the preset's query plus the app's `active` column."""

import os

from importlib.metadata import version

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, null, or_
from werkzeug.security import check_password_hash, generate_password_hash

from rehearsal import Users, arguments, create_database, postgres, psql, write_manifest

args = arguments(__doc__)
create_database(args)

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = (
    f"postgresql+psycopg://postgres@{args.host}:{args.port}/{args.dataset}"
)
db = SQLAlchemy(app)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)
    email = db.Column(db.String(120), unique=True, nullable=True)
    password_hash = db.Column(db.String(256), nullable=False)
    # Flask-Login's is_active: NULL is falsy, so such a user cannot sign in.
    active = db.Column(db.Boolean, nullable=True, default=True)
    created_at = db.Column(db.DateTime(timezone=True), server_default=func.now())

    def set_password(self, password, method=None):
        options = {"method": method} if method else {}
        self.password_hash = generate_password_hash(password, **options)


def login(identifier, typed):
    """The app's login view: by username or email, active users only."""
    user = User.query.filter(or_(User.username == identifier, User.email == identifier)).first()
    return user is not None and bool(user.active) and check_password_hash(user.password_hash, typed)


users = Users(login)


def create(username, email, password, note, method=None, active=True, variants=(), wrong=None):
    # A None attribute would take the column's default: null() writes a real NULL.
    user = User(username=username, email=email, active=null() if active is None else active)
    user.set_password(password, method)
    db.session.add(user)
    db.session.commit()
    logins = [username] + ([email] if email else [])
    users.add(user.id, username, email, logins, password, note, variants, wrong)


# Werkzeug's default, then each method it offers, at their default cost.
methods = [None, "pbkdf2", "pbkdf2:sha256", "pbkdf2:sha512", "scrypt"]
with app.app_context():
    db.create_all()
    for method in methods:
        name = method or "default"
        create(f"method-{name.replace(':', '-')}", f"{name.replace(':', '-')}@example.com",
               f"correct horse {name} ✓", f"generate_password_hash(method={method!r})",
               method=method)
    # The rows every real table has (at a cheap, explicit cost).
    cheap = "pbkdf2:sha256:1000"
    long_password = "0123456789" * 8 + "-real-end"
    create("long", "long@example.com", long_password,
           "89-byte password: PBKDF2 reads it whole", cheap,
           wrong=long_password[:72] + "-other-end")
    create("padded", "padded@example.com", "  spaces around  ",
           "Werkzeug keeps surrounding spaces", cheap, wrong="spaces around")
    create("no-email", None, "no email", "NULL email", cheap)
    create("Case-Upper", "Case.Only@Example.com", "upper case",
           "email differing only in case (the column is unique, case-sensitively)", cheap)
    create("case-lower", "case.only@example.com", "lower case",
           "email differing only in case (the column is unique, case-sensitively)", cheap)
    create("jürgen", "juergen@example.com", "Grüße, 世界", "non-ASCII username and password",
           cheap)
    create("inactive", "inactive@example.com", "deactivated", "active = false", cheap,
           active=False)
    create("null-active", "null-active@example.com", "never activated", "active IS NULL",
           cheap, active=None)

out = args.out
psql(args, f"\\copy (select * from \"user\" order by id) to '{os.path.join(out, 'user.csv')}' csv header")
with open(os.path.join(out, "user.jsonl"), "w", encoding="utf-8") as jsonl:
    psql(args, 'select row_to_json(u) from "user" u order by id', stdout=jsonl, rows_only=True)

flags = ["--dialect", "werkzeug", "--active-column", "active", "--null-means", "active=false"]
write_manifest(
    args,
    "Flask/Werkzeug",
    f"Werkzeug {version('werkzeug')}, Flask {version('flask')}, "
    f"Flask-SQLAlchemy {version('flask-sqlalchemy')}",
    [
        {"name": "psql csv", "file": "user.csv", "flags": flags, "uid_from": "id", "rows": "header+lines"},
        {"name": "psql jsonl", "file": "user.jsonl", "flags": flags, "uid_from": "id",
         "rows": "lines"},
    ],
    users,
    [
        postgres(args, "flask"),
        # The preset reads every column (Flask prescribes none); the printed query edited to
        # name the app's columns, its `active` as is_active, and passed back with --query.
        postgres(args, "flask", name="PostgreSQL --query (flask preset + active)",
                 edit=("SELECT * FROM", "SELECT id, username, email, password_hash, active AS is_active FROM"),
                 flags=["--dialect", "werkzeug", "--null-means", "is_active=false"]),
    ],
)
