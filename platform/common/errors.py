"""One error shape for the whole API: {"error": "<sentence>", "code": "<stable_code>"} with a 4xx status."""

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApiError(exceptions.APIException):
    """Raise from services or views with a stable code and a sentence a person understands."""

    def __init__(self, message: str, *, code: str, status_code: int = status.HTTP_400_BAD_REQUEST):
        self.status_code = status_code
        self.code = code
        super().__init__(detail=message, code=code)


def error_sentence(detail) -> str:
    """DRF's error detail (dicts and lists of field errors) as one sentence."""
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = error_sentence(value)
            if field in ("non_field_errors", "detail"):
                parts.append(text)
            else:  # "status must be one of ..." reads as a sentence; "epochs: Ensure this value ..." too
                parts.append(f"{field} {text}" if text.startswith("must ") else f"{field}: {text}")
        return " ".join(parts)
    if isinstance(detail, list):
        return " ".join(error_sentence(item) for item in detail)
    return str(detail)


_DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    428: "precondition_required",
    429: "throttled",
}


def body_too_large_error() -> ApiError:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return ApiError(f"The request body is too large: JSON and form fields may take at most {limit_mb:g} MB "
                    "(audio files go in a multipart 'file' field, which has its own limit).",
                    code="too_large", status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def api_exception_handler(exc, context):
    # Django's own request limits, raised while DRF parses the body: the API's JSON shape, not an HTML 400.
    if isinstance(exc, RequestDataTooBig):
        exc = body_too_large_error()
    elif isinstance(exc, TooManyFilesSent | TooManyFieldsSent):
        exc = ApiError("Too many files or fields in one request; send one file per request.", code="too_many_fields")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found, or you do not have access to it.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)  # keep the sentence saying why
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handler answers (as JSON for /api/)
    code = getattr(exc, "code", None)
    if not isinstance(code, str):
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = codes if isinstance(codes, str) else _DEFAULT_CODES.get(response.status_code, "error")
        if isinstance(exc, exceptions.ValidationError):
            code = "invalid"
    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    return Response(
        {"error": error_sentence(response.data), "code": code}, status=response.status_code, headers=headers
    )


# An absolute path of two or more parts (not a URL's): /var/lib/singscope/media/..., /tmp/singscope-import-x/...
_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.+-]+/)+([\w.+-]*)")


def public_text(text: str, *, limit: int = 1000) -> str:
    """What a member may read of an error: its first line, every server or temporary path cut to its
    file name, at most ``limit`` characters. The full story (traceback, paths) belongs in the server log."""
    first = next((line.strip() for line in str(text).splitlines() if line.strip()), "")
    return _PATH.sub(lambda m: m.group(1) or "a server folder", first)[:limit]


def json_error(message: str, *, code: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message, "code": code}, status=status)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error("Not found, or you do not have access to it.", code="not_found", status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler400(request, exception=None):
    """Django's answer to a SuspiciousOperation raised outside DRF (e.g. a body over the limit read by
    a middleware): JSON on /api/, with 413 for a body that is too large."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            error = body_too_large_error()
            return json_error(str(error.detail), code=error.code, status=error.status_code)
        return json_error("The request could not be read (malformed or too large).", code="bad_request", status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return json_error(
            "Something went wrong on our side; the error was logged. Please try again.",
            code="server_error",
            status=500,
        )
    from django.views.defaults import server_error

    return server_error(request)
