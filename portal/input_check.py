"""One gate for input that is not text: a NUL byte, or bytes that are not UTF-8.

PostgreSQL refuses a NUL in any text value (psycopg raises ``ValueError``) and a lone
surrogate cannot even be encoded to send, so either one reaching a query was a 500. Nothing
the portal takes from a person may hold one: every such request is refused ``400 invalid``
(in the API's envelope under ``/api/``, a page elsewhere), with a message saying where.

- :class:`portal.middleware.InputCheckMiddleware` (early in ``MIDDLEWARE``, before the
  session cookie is read) checks, byte by byte before anything decodes them: the path, the
  query string, every header, and the body of a urlencoded form or of a JSON request
  (:func:`request_problem`).
- A multipart body cannot be read up front (a view installs its upload handlers before the
  body is parsed, see ``submissions.upload_handlers``), so it is checked as it is parsed, by
  :func:`parse_multipart`: the middleware hands it to Django's ``request.POST`` / ``FILES``,
  and ``portal.parsers.MultiPartParser`` to DRF's ``request.data``. Django decodes a field with
  ``errors="replace"``, so there a name or value that arrives as other bytes shows as U+FFFD,
  the replacement character, and that is what is refused; file names are checked before
  Django strips their control characters. File contents are never looked at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList, MultiValueDict

from portal.errors import InvalidInput

NUL = "contains a NUL byte, which no text may contain"
NOT_UTF8 = "is not valid UTF-8 text"
SURROGATE = "contains an unpaired surrogate (U+D800 to U+DFFF), which is not text"
_SURROGATES = re.compile("[\ud800-\udfff]")


def bytes_problem(raw: bytes) -> str | None:
    """Why these bytes cannot be text, or None."""
    if b"\x00" in raw:
        return NUL
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    return None


def text_problem(text: str, *, replaced: bool = False) -> str | None:
    """Why this decoded text cannot be kept, or None. ``replaced``: it was decoded with
    ``errors="replace"``, so U+FFFD stands for bytes that were not UTF-8."""
    if "\x00" in text:
        return NUL
    if _SURROGATES.search(text):
        return SURROGATE
    if replaced and "\ufffd" in text:
        return NOT_UTF8
    return None


def shown(name: str | bytes) -> str:
    """A name for a message: quoted, shortened, control characters and undecodable bytes
    written as escapes."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "backslashreplace")
    out = "".join(
        ch if ch.isprintable() else (f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        for ch in name[:60]
    )
    return f"'{out}{'…' if len(name) > 60 else ''}'"


def _pairs_problem(raw: bytes, what: str) -> str | None:
    """A query string or urlencoded body, split as Django's QueryDict splits it."""
    for chunk in raw.split(b"&"):
        if not chunk:
            continue
        name, _, value = chunk.partition(b"=")
        name, value = (unquote_to_bytes(part.replace(b"+", b" ")) for part in (name, value))
        problem = bytes_problem(name)
        if problem:
            return f"A {what}'s name {problem}."
        problem = bytes_problem(value)
        if problem:
            return f"The {what} {shown(name)} {problem}."
    return None


def _json_strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a parsed JSON document, keys included, with where it is."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _json_strings(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            yield where, key
            yield from _json_strings(value, where)


def json_problem(raw: bytes, encoding: str | None) -> str | None:
    """A JSON body: its bytes, then every string in it (``\\u0000`` and lone ``\\ud800``
    escapes decode to what the bytes could not hold). A body that is not JSON at all is left
    to the parser (``400 parse_error``)."""
    if b"\x00" in raw:
        return f"The request body {NUL}."
    try:
        text = raw.decode(encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        return f"The request body {NOT_UTF8}."
    try:
        document = json.loads(text)
    except ValueError:
        return None
    for where, value in _json_strings(document):
        problem = text_problem(value)
        if problem:
            return f"The field {shown(where)} {problem}." if where else f"The body {problem}."
    return None


def _header_name(key: str) -> str:
    return key.removeprefix("HTTP_").replace("_", "-").title()


def headers_problem(meta: Mapping[str, Any]) -> str | None:
    """Every header. A WSGI server hands them over as ISO-8859-1 strings, so their bytes are
    the string encoded back; a test client may put in text already decoded."""
    for key, value in meta.items():
        if not (key.startswith("HTTP_") or key == "CONTENT_TYPE") or not isinstance(value, str):
            continue
        try:
            problem = bytes_problem(value.encode("iso-8859-1"))
        except UnicodeEncodeError:
            problem = text_problem(value)
        if problem:
            return f"The header {shown(_header_name(key))} {problem}."
    return None


def request_problem(request: HttpRequest) -> str | None:
    """What is wrong with the parts of ``request`` that can be checked before a view runs:
    path, query string, headers, and a urlencoded or JSON body (read here, so at most
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes, as Django reads a form). None when all is text."""
    meta = request.META
    path_problem = bytes_problem(str(meta.get("PATH_INFO", "")).encode("iso-8859-1", "replace"))
    if path_problem or text_problem(request.path_info):
        return f"The address {path_problem or text_problem(request.path_info)}."
    problem = _pairs_problem(
        str(meta.get("QUERY_STRING", "")).encode("iso-8859-1", "replace"), "query parameter"
    ) or headers_problem(meta)
    if problem:
        return problem
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return _pairs_problem(request.body, "form field")
    if content_type == "application/json" or content_type.endswith("+json"):
        return json_problem(request.body, request.encoding) if request.body else None
    return None


class _PartHeaderTap:
    """Reads through to a multipart body, checking each part's header block (where the
    field's name and the file's name are) as it passes: Django skips a header line that is
    not UTF-8, and so drops that file or field without a word."""

    MAX_HEADER = 64 * 1024  # far more than Django reads of a part's headers

    def __init__(self, stream: Any, boundary: bytes):
        self.stream = stream
        self.delimiter = b"--" + boundary
        self.pending = b""
        self.in_header = False
        self.problem: str | None = None

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.stream.read(size)
        if chunk and self.problem is None:
            self._scan(chunk)
        return chunk

    def _scan(self, chunk: bytes) -> None:
        self.pending += chunk
        while self.problem is None:
            if self.in_header:
                end = self.pending.find(b"\r\n\r\n")
                if end == -1:
                    if len(self.pending) > self.MAX_HEADER:
                        self.pending, self.in_header = b"", False
                    return
                self.problem = _part_header_problem(self.pending[:end])
                self.pending, self.in_header = self.pending[end + 4 :], False
            else:
                at = self.pending.find(self.delimiter)
                if at == -1:
                    self.pending = self.pending[-len(self.delimiter) :]
                    return
                self.pending, self.in_header = self.pending[at + len(self.delimiter) :], True


def _part_header_problem(header: bytes) -> str | None:
    problem = bytes_problem(header)
    if problem is None:
        return None
    for line in header.split(b"\r\n"):
        if bytes_problem(line) is None:
            continue
        file_name = re.search(rb'filename="([^"]*)"', line)
        if file_name:
            return f"The name of an uploaded file, {shown(file_name[1])}, {problem}."
        field_name = re.search(rb'\bname="([^"]*)"', line)
        if field_name:
            return f"The name of a form field, {shown(field_name[1])}, {problem}."
    return f"A header of a form field or uploaded file {problem}."


class CheckingMultiPartParser(MultiPartParser):
    """Django's parser, reading through a :class:`_PartHeaderTap`, and remembering a file
    name that is not text before ``sanitize_file_name`` strips its control characters (a
    file named ``a\\0.py`` would otherwise become ``a.py``, and one named ``\\0`` be
    dropped)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tap = _PartHeaderTap(self._input_data, self._boundary)  # type: ignore[has-type,attr-defined]
        self._input_data = self.tap
        self.name_problem: str | None = None

    @property
    def problem(self) -> str | None:
        return self.name_problem or self.tap.problem

    def sanitize_file_name(self, file_name: str) -> str | None:
        problem = text_problem(file_name, replaced=True)
        if problem and self.name_problem is None:
            self.name_problem = f"The name of an uploaded file, {shown(file_name)}, {problem}."
        return super().sanitize_file_name(file_name)


def parse_multipart(
    meta: Mapping[str, Any],
    data: IO[bytes] | HttpRequest,
    upload_handlers: list[FileUploadHandler] | ImmutableList,
    encoding: str | None,
) -> tuple[QueryDict, MultiValueDict[str, Any]]:
    """Django's multipart parsing, then every field name, value and file name checked;
    :class:`~portal.errors.InvalidInput` (with the files closed, so a temporary file is
    deleted) when one is not text."""
    parser = CheckingMultiPartParser(meta, data, upload_handlers, encoding)  # type: ignore[arg-type]
    post, files = parser.parse()
    problem = parser.problem or _form_problem(post, files)
    if problem:
        for upload in chain.from_iterable(uploads for _, uploads in files.lists()):
            upload.close()
        raise InvalidInput(problem)
    return post, files


def _form_problem(post: QueryDict, files: MultiValueDict[str, Any]) -> str | None:
    for name, values in post.lists():
        problem = text_problem(name, replaced=True)
        if problem:
            return f"A form field's name {problem}."
        for value in values:
            problem = text_problem(value, replaced=True)
            if problem:
                return f"The form field {shown(name)} {problem}."
    for name in files:
        problem = text_problem(name, replaced=True)
        if problem:
            return f"A form field's name {problem}."
    return None


def install_multipart_check(request: HttpRequest) -> None:
    """Django's ``request.POST`` / ``FILES`` of this request parse a multipart body through
    :func:`parse_multipart` (what ``HttpRequest.parse_file_upload`` does, plus the check)."""

    def parse_file_upload(
        meta: Mapping[str, Any], post_data: IO[bytes] | HttpRequest
    ) -> tuple[QueryDict, MultiValueDict[str, Any]]:
        request.upload_handlers = ImmutableList(  # type: ignore[assignment]
            request.upload_handlers,
            warning="You cannot alter upload handlers after the upload has been processed.",
        )
        return parse_multipart(meta, post_data, request.upload_handlers, request.encoding)

    request.parse_file_upload = parse_file_upload  # type: ignore[method-assign,assignment]
