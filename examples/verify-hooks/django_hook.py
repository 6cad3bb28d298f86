"""firegate's legacy verify hook for a Django project (django.contrib.auth password hashes).

In a project, `firegate_verify` is a view in urls.py and `find_user` is
User.objects.filter(username=login).first() (then user.password, user.pk, user.email).
This file runs alone as a one-file Django site:
    FIREGATE_LEGACY_VERIFY_SECRET=... LEGACY_USERS=users.json PORT=8002 python django_hook.py
"""
import hashlib
import hmac
import json
import os
import sys
import time

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "only-for-this-sample"),
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)

from django.contrib.auth.hashers import check_password, make_password  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

SECRET = os.environ.get("FIREGATE_LEGACY_VERIFY_SECRET", "").encode()
if len(SECRET) < 32:
    # An empty or short key would let anyone sign a request: refuse to start.
    raise SystemExit("FIREGATE_LEGACY_VERIFY_SECRET must hold the hook's secret (32 bytes or more)")


def signed(request):
    """The request came from firegate: HMAC-SHA256 of "<timestamp>.<body>", at most 5 minutes old."""
    stamp = request.headers.get("X-Firegate-Timestamp", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return False
    mac = hmac.new(SECRET, stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers.get("X-Firegate-Signature", ""), "v1=" + mac)


def find_user(login):
    """Stands for User.objects.filter(username=login).first()."""
    with open(os.environ["LEGACY_USERS"]) as users:
        return json.load(users).get(login)


@csrf_exempt
@require_POST
def firegate_verify(request):
    if not signed(request):
        return HttpResponse(status=401)
    asked = json.loads(request.body)
    user = find_user(asked["login"])
    if user is None:
        # As Django's ModelBackend does: hash anyway, so an unknown login takes as long.
        make_password(asked["password"])
        return JsonResponse({"valid": False})
    if not check_password(asked["password"], user["hash"]):
        return JsonResponse({"valid": False})
    # user.is_active in a real app: a user deactivated there stays out.
    disabled = not user.get("active", True)
    return JsonResponse({"valid": True, "uid": user["uid"], "email": user.get("email"), "disabled": disabled})


urlpatterns = [path("firegate-verify", firegate_verify)]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], "runserver", "--noreload", f"127.0.0.1:{os.environ['PORT']}"])
