"""The DPO's console: server-rendered pages under ``/ui/`` over the HTTP service's core.

``mount_console(app, service)`` adds the pages to the service's application; they
share its lock (``service.gate``), its writer (``service.write``) and its tokens
and roles. Decrypted data is shown only to a role that may read it, after the
read is recorded like the API's (``ledger.access.records``).
"""

from __future__ import annotations

from fastapi import FastAPI

from ledger.console import (
    pages_disclosures,
    pages_findings,
    pages_log,
    pages_retention,
    pages_rights,
    pages_signin,
    pages_subject,
)
from ledger.console.session import Sessions
from ledger.console.web import ServiceLike

__all__ = ["mount_console"]


def mount_console(app: FastAPI, service: ServiceLike) -> None:
    """Serve the console's pages from ``app`` under ``/ui/``."""
    sessions = Sessions(service.auth)
    app.include_router(pages_signin.router(sessions))
    for module in (
        pages_subject, pages_findings, pages_disclosures, pages_rights, pages_retention,
        pages_log,
    ):  # fmt: skip
        app.include_router(module.router(service, sessions))
