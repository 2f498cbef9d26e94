"""Login lockout with django-axes: after LOGIN_MAX_FAILURES failed logins for one username from one
address within LOGIN_FAILURE_WINDOW seconds, further attempts are refused with HTTP 429 until the
window has passed since the last failure. Failures are rows in the database (axes' AccessAttempt),
so every web process sees the same counts.

The username is counted as Django signs in with it: NFKC-normalised (AuthenticationForm's
UsernameField), so `ｂ_ann` and `𝐛_ann` are `b_ann`; and case-folded, so `B_ANN` shares the count too.
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.utils import timezone


def login_username(request, credentials: dict | None = None) -> str:
    """AXES_USERNAME_CALLABLE: the key failures are counted under."""
    raw = (credentials or {}).get("username")
    if raw is None:
        raw = request.POST.get("username", "") if request is not None else ""
    return unicodedata.normalize("NFKC", str(raw)).strip().casefold()[:150]


def client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR only; X-Forwarded-For is client-controlled unless a trusted
    proxy rewrites it."""
    return request.META.get("REMOTE_ADDR") or None


def _seconds_left(request, credentials) -> int:
    from axes.models import AccessAttempt

    window = settings.AXES_COOLOFF_TIME
    last = (AccessAttempt.objects.filter(username=login_username(request, credentials),
                                         ip_address=client_address(request))
            .order_by("-attempt_time").values_list("attempt_time", flat=True).first())
    if last is None:
        return int(window.total_seconds())
    return max(1, int((last + window - timezone.now()).total_seconds()))


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the login page again, with the reason, HTTP 429 and Retry-After."""
    wait = _seconds_left(request, credentials)
    minutes = max(1, round(wait / 60))
    view = LoginView(template_name="accounts/login.html", request=request, args=(), kwargs={})
    form = view.get_form()
    form.errors.clear()
    context = view.get_context_data(
        form=form, throttled=True,
        throttle_message=f"Too many failed attempts for this account. Try again in about {minutes} "
                         f"minute{'s' if minutes != 1 else ''}.")
    response = view.render_to_response(context, status=429)
    response["Retry-After"] = str(wait)
    return response.render()
