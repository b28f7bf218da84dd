"""The OpenAPI schema's one addition to drf-spectacular: every operation declares the refusals
it can answer with, in the error envelope. Each APIView lists its own in ``refusals``
(``{status: "code, code"}``); the ones every view shares are added here: 400 everywhere (the
input check, ``portal.input_check``, refuses a NUL byte or undecodable text in any path,
query, header or body, and the views validate their query parameters), 401 for views that
need a login, 404 for views with an address that names something (or the caller's course),
and for views that read a body, 400 ``parse_error`` and 415 for a content type they do not
read."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from portal.serializers import ErrorOutput

NOT_AUTHENTICATED = "not_authenticated, authentication_failed, token_expired"
NOT_FOUND = "not_found, not_enrolled"
INVALID = "invalid"
UNPARSABLE = "parse_error"
UNSUPPORTED = "unsupported_media_type"


class PortalAutoSchema(AutoSchema):
    def _refusals(self) -> dict[int, str]:
        view = self.view
        found: dict[int, str] = {400: INVALID}
        if not any(p is AllowAny for p in getattr(view, "permission_classes", [])):
            found[401] = NOT_AUTHENTICATED
        if "{" in self.path:
            found[404] = NOT_FOUND
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            found[400] = f"{INVALID}, {UNPARSABLE}"
            found[415] = UNSUPPORTED
        for status, codes in getattr(view, "refusals", {}).get(self.method, {}).items():
            found[status] = f"{found[status]}, {codes}" if status in found else codes
        return found

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status, codes in sorted(self._refusals().items()):
            body = self._get_response_for_code(ErrorOutput, str(status), direction=direction)
            body["description"] = codes
            responses.setdefault(str(status), body)
        return responses
