"""One error shape for the whole API: {"error": "<sentence>", "code": "<stable_code>"} with a 4xx status."""

from django.core.exceptions import PermissionDenied
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


def api_exception_handler(exc, context):
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


def json_error(message: str, *, code: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message, "code": code}, status=status)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error("Not found, or you do not have access to it.", code="not_found", status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return json_error(
            "Something went wrong on our side; the error was logged. Please try again.",
            code="server_error",
            status=500,
        )
    from django.views.defaults import server_error

    return server_error(request)
