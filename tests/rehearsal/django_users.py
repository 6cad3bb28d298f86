"""A Django project's auth.User table written by Django itself: the real `migrate`, users
created with `create_user` under every password hasher Django enables by default (at its
default cost) and the older ones sites still hold, and the edge cases real tables have.
Exported with `dumpdata auth.user` (plain and `--natural-primary`) and `psql \\copy … csv`;
the same rows are also copied into a SQLite database Django migrated, as a site on SQLite has
them."""

import os
import sqlite3

import django
from django.conf import global_settings, settings

from rehearsal import Users, arguments, create_database, database, postgres, psql, write_manifest

args = arguments(__doc__)
create_database(args)
sqlite_file = os.path.abspath(os.path.join(args.out, "auth_user.sqlite3"))
settings.configure(
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": args.dataset,
            "USER": "postgres",
            "HOST": args.host,
            "PORT": str(args.port),
        },
        "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_file},
    },
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    # A site that still holds older hashes lists their hashers after the defaults, or those
    # users could not sign in; the ones this version lacks are dropped below.
    PASSWORD_HASHERS=[
        *global_settings.PASSWORD_HASHERS,
        *(f"django.contrib.auth.hashers.{name}" for name in [
            "BCryptPasswordHasher", "MD5PasswordHasher", "SHA1PasswordHasher",
            "UnsaltedMD5PasswordHasher", "UnsaltedSHA1PasswordHasher", "CryptPasswordHasher",
        ]),
        "__main__.CheapPBKDF2PasswordHasher",
    ],
    USE_TZ=True,
)
django.setup()

from django.contrib.auth import hashers  # noqa: E402
from django.contrib.auth.backends import ModelBackend  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

call_command("migrate", verbosity=0)
settings.PASSWORD_HASHERS = [
    h for h in settings.PASSWORD_HASHERS
    if h.startswith("__main__") or hasattr(hashers, h.rsplit(".", 1)[1])
]

HASHERS = "django.contrib.auth.hashers."


class CheapPBKDF2PasswordHasher(hashers.PBKDF2PasswordHasher):
    """Django's PBKDF2-SHA256 at 1,000 rounds, for the users whose point is not the hasher:
    the defaults are rehearsed by the users named after them."""

    iterations = 1000


CHEAP = "__main__.CheapPBKDF2PasswordHasher"


def login(username, typed):
    """ModelBackend.authenticate's decision, without the rehash it would save."""
    user = User.objects.filter(username=username).first()
    return (
        user is not None
        and hashers.check_password(typed, user.password)
        and ModelBackend().user_can_authenticate(user)
    )


users = Users(login)


def create(hasher, username, email, password, note, variants=(), wrong=None, **extra):
    with override_settings(PASSWORD_HASHERS=[hasher, *settings.PASSWORD_HASHERS]):
        user = User.objects.create_user(username, email, password, **extra)
    users.add(user.pk, username, email, [username], password or "", note, variants, wrong)
    return user


# Every hasher this version enables by default, at its default cost.
for hasher in global_settings.PASSWORD_HASHERS:
    name = hasher.rsplit(".", 1)[1]
    algorithm = hashers.import_string(hasher).algorithm
    create(hasher, f"default-{algorithm}", f"{algorithm}@example.com",
           f"correct horse {algorithm} ✓", f"{name} (default cost)")

# Older hashers a site upgraded from may still hold, when this version has them.
extra = {
    "MD5PasswordHasher": ("md5 salted", "tr0ub4dor&3", (), None),
    "SHA1PasswordHasher": ("sha1 salted", "tr0ub4dor&3", (), None),
    "UnsaltedMD5PasswordHasher": ("md5 unsalted", "tr0ub4dor&3", (), None),
    "UnsaltedSHA1PasswordHasher": ("sha1 unsalted", "tr0ub4dor&3", (), None),
    # crypt(3) DES reads 8 characters: anything sharing them is the same password.
    "CryptPasswordHasher": ("DES crypt", "abcdefgh-and-more", ("abcdefgh", "abcdefgh+other"),
                            "abcdefgX-and-more"),
}
long_password = "0123456789" * 7 + "-real-end"  # 79 bytes
# bcrypt 4 reads 72 bytes; bcrypt 5 (Django 5.2's here) refuses longer ones instead.
import bcrypt  # noqa: E402

if bcrypt.__version__.startswith("4."):
    extra["BCryptPasswordHasher"] = (
        "bcrypt, 72 bytes read", long_password, (long_password[:72] + "-other-end",),
        "x" + long_password[1:])
else:
    extra["BCryptPasswordHasher"] = ("bcrypt", "tr0ub4dor&3", (), None)
for name, (what, password, variants, wrong) in extra.items():
    if hasattr(hashers, name):
        create(HASHERS + name, f"legacy-{name[:-len('PasswordHasher')].lower()}",
               f"{name.lower()}@example.com", password, f"{name} ({what})", variants, wrong)

# The rows every real table has.
for n in range(3):
    create(CHEAP, f"shares-email-{n}", "shared@example.com", f"shared {n}",
           "three users share one email (Django does not make emails unique)")
create(CHEAP, "case-upper", "Case.Only@Example.com", "upper case", "email differing only in case")
create(CHEAP, "case-lower", "case.only@example.com", "lower case", "email differing only in case")
create(CHEAP, "no-email", "", "no email at all", "empty email (Django's default)")
create(CHEAP, "lee@example.com", "lee@example.com", "email as username",
       "the email is the username")
create(CHEAP, "김민준", "minjun@example.com", "비밀번호 ✓ pässwörd", "non-ASCII username and password")
create(CHEAP, "first.last+tag", "first.last+tag@example.com", "dots and plus", "punctuation")
create(CHEAP, "padded", "padded@example.com", "  spaces around  ",
       "Django keeps surrounding spaces: the trimmed password is wrong", wrong="spaces around")
create(CHEAP, "inactive", "inactive@example.com", "deactivated", "is_active = false",
       is_active=False)
create(CHEAP, "unusable", "unusable@example.com", None, "create_user without a password")
social = create(CHEAP, "social", "social@example.com", "had one once", "set_unusable_password")
social.set_unusable_password()
social.save()
users.users[-1]["can_sign_in"] = users.login("social", "had one once")
with override_settings(PASSWORD_HASHERS=[CHEAP]):
    admin = User.objects.create_superuser("admin", "admin@example.com", "admin password")
users.add(admin.pk, "admin", "admin@example.com", ["admin"], "admin password", "superuser")

# The same rows in SQLite, in a schema Django's own migrations made.
call_command("migrate", database="sqlite", verbosity=0)
User.objects.using("sqlite").bulk_create(User.objects.order_by("id"))

# The exports.
call_command("dumpdata", "auth.user", output=os.path.join(args.out, "dumpdata.json"))
call_command("dumpdata", "auth.user", natural_primary=True,
             output=os.path.join(args.out, "dumpdata-natural.json"))
csv = os.path.join(args.out, "auth_user.csv")
psql(args, f"\\copy (select * from auth_user order by id) to '{csv}' csv header")

write_manifest(
    args,
    "Django",
    django.get_version(),
    [
        {"name": "dumpdata", "file": "dumpdata.json", "flags": [], "uid_from": "id",
         "rows": "records"},
        {"name": "dumpdata --natural-primary", "file": "dumpdata-natural.json",
         "flags": ["--id-column", "username"], "uid_from": "username", "rows": "records"},
        {"name": "psql csv", "file": "auth_user.csv", "flags": ["--dialect", "django"],
         "uid_from": "id", "rows": "header+lines"},
    ],
    users,
    [
        postgres(args, "django"),
        database("SQLite --preset django", f"sqlite://{sqlite_file}", "django",
                 f"SQLite {sqlite3.sqlite_version} (Python's sqlite3 wrote it)"),
    ],
)
