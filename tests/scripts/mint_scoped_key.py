#!/usr/bin/env python3
"""Mints a kontakt scoped search key with only the standard library, as a
backend in another language would (README, "Scoped keys"), and uses it.

    mint_scoped_key.py BASE_URL PARENT_KEY FILTER EXPIRES_UNIX MAX_LIMIT HIDE

Prints the key on the first line. Then searches BASE_URL with it (facets on
country_code) and prints the answer's total and country facet as JSON on the
second line. Run by tests/scoped_keys.rs.
"""
import base64
import hashlib
import hmac
import json
import sys
import urllib.request


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(parent: str, filter_: str, expires: int, max_limit: str, hide: str) -> str:
    payload = "\n".join(
        [
            "kontakt-scope-1",
            f"expires={expires}",
            f"filter={filter_}",
            f"max_limit={max_limit}",
            f"hide={','.join(sorted(set(h for h in hide.split(',') if h)))}",
        ]
    ).encode("utf-8")
    mac_key = hashlib.sha256(parent.encode("utf-8")).digest()
    mac = hmac.new(mac_key, payload, hashlib.sha256).digest()
    return f"kss_{b64(payload)}.{b64(mac)}"


def main() -> None:
    base, parent, filter_, expires, max_limit, hide = sys.argv[1:7]
    key = mint(parent, filter_, int(expires), max_limit, hide)
    print(key)
    req = urllib.request.Request(
        f"{base}/v1/contacts?facets=country_code&limit=1",
        headers={"Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(req) as resp:
        body = json.load(resp)
    print(json.dumps({"total": body["total"], "countries": body["facets"]["country_code"]}))


if __name__ == "__main__":
    main()
