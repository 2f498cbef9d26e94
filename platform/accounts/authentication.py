"""API token authentication: ``Authorization: Token <key>`` with a user's named tokens (profile page)
or the one ``manage.py drf_create_token`` makes (DRF's table). A missing, bad, revoked or outdated
token answers HTTP 401 with ``WWW-Authenticate: Token realm="api"`` (this class is listed first, so
DRF answers 401, not 403, for unauthenticated API requests)."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        from accounts.services import api_token_authenticate

        found = api_token_authenticate(key=key)
        if found is None:
            raise exceptions.AuthenticationFailed(
                "Invalid or revoked API token. Make a new one on your profile page (tokens are revoked when "
                "the password changes).")
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed("This API token's user is inactive.")
        return user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
