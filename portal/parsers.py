"""DRF's parsers, as the portal uses them: a multipart body is checked for what is not text
while it is parsed (:func:`portal.input_check.parse_multipart`). Every API view takes its
multipart parser from here (``DEFAULT_PARSER_CLASSES``, or ``parser_classes``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.http.multipartparser import MultiPartParserError
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class MultiPartParser(parsers.MultiPartParser):
    """DRF's ``MultiPartParser`` (the same parse), through the portal's check."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> parsers.DataAndFiles[Any, Any]:
        # Imported here: DRF reads DEFAULT_PARSER_CLASSES (so imports this module) while
        # rest_framework.views is being imported, which portal.errors does.
        from portal.input_check import parse_multipart

        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            data, files = parse_multipart(meta, stream, request.upload_handlers, encoding)
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc
        return parsers.DataAndFiles(data, files)
