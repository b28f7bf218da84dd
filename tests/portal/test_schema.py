from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/courses/",
        "/api/v1/courses/{course_slug}/assignments/",
    ]:
        assert path in schema
