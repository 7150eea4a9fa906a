"""Issue 9: the parties' key fingerprints are printed on /policy, in the notice and in the DPIA.

Workers and the union check decisions against these; a document that printed another key (or
none) would let a made-up key set pass unnoticed.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from teamlens import services
from teamlens.web import create_app

from ..integration.flow_support import Org


def test_every_registered_fingerprint_is_printed_where_workers_read_it(released_org: Org) -> None:
    keys = services.keys.registered(released_org.ws)
    assert keys is not None and len(keys.keys) == 3
    shown = [services.keys.spaced(key.fingerprint) for key in keys.keys]
    page = TestClient(create_app(released_org.ws)).get("/policy").text
    notice = services.document_html(released_org.ws, "notice")
    dpia = services.document_html(released_org.ws, "dpia")
    for where, text in (("/policy", page), ("notice", notice), ("DPIA", dpia)):
        for fingerprint in shown:
            assert fingerprint in text, where
        assert "python -m teamlens.verify" in text, where


def test_the_public_audit_page_names_the_signing_key_not_the_signature(released_org: Org) -> None:
    from .conftest import next_day

    with next_day():
        page = TestClient(create_app(released_org.ws)).get("/audit").text
    keys = services.keys.registered(released_org.ws)
    assert keys is not None
    assert "signed with key " in page
    assert any(f"{key.fingerprint[:16]}…" in page for key in keys.keys)
    approval = next(
        e for e in released_org.ws.governance.audit_entries(limit=500) if e.action == "policy.approve"
    )
    signature = approval.details["signed"]["signature"]["signature"]  # type: ignore[index]
    assert signature not in page  # the public page summarises; the export carries the signatures
