"""Schemathesis hooks for kontakt's CI (loaded through SCHEMATHESIS_HOOKS).

Write bodies are JSON Lines (`application/x-ndjson`), which the OpenAPI
document describes as text. Schemathesis has no serializer for that media
type, so this one sends generated text and bytes as they are; anything else
(negative cases that are not text) is sent as one JSON line.

The API treats a query parameter with an empty value as absent,
which the document cannot say per parameter without blurring every schema;
so queries carrying an empty value are not generated (they would be "invalid"
values that are rightly accepted).
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    # `format: binary` values come wrapped, with their bytes in `data`.
    value = getattr(value, "data", value)
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


def _is_empty(value):
    # `{}` and `None` reach the wire as an empty value too.
    if isinstance(value, list):
        return not value or any(_is_empty(v) for v in value)
    return value is None or value == "" or value == {}


@schemathesis.hook
def filter_query(ctx, query):
    return not query or not any(_is_empty(v) for v in query.values())
