"""Notice versions and recipients' agreements, read from their streams and kept in step."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.findings import Agreement, Agreements
from ledger.domain.register import NoticeHistory, NoticeVersion
from schemas import events as ev

if TYPE_CHECKING:
    from ledger.persistence.mapper import PydanticMapper
    from ledger.persistence.recorders import LedgerRecorder

NOTICE_STREAM = uuid5(NAMESPACE_URL, "urn:ledger:stream:notice")
RECIPIENT_STREAM = uuid5(NAMESPACE_URL, "urn:ledger:stream:recipients")


@dataclass(slots=True)
class Registry:
    """What the write side checks lines against besides the subjects' own state."""

    notices: NoticeHistory = field(default_factory=NoticeHistory)
    recipients: dict[str, ev.RecipientRegisteredData] = field(default_factory=dict)
    agreements: Agreements = field(default_factory=Agreements)
    versions: dict[UUID, int] = field(
        default_factory=lambda: {NOTICE_STREAM: 0, RECIPIENT_STREAM: 0}
    )

    def sync(
        self,
        recorder: LedgerRecorder,
        mapper: PydanticMapper,
        *,
        heads: Mapping[UUID, int] | None = None,
    ) -> None:
        """Read notice and recipient events appended since the last look.

        One index probe per stream tells whether anything changed (or ``heads``,
        the streams' versions an append's prefetch already read); events are read
        only when it did (rarely: notices and recipients change seldom).
        """
        if heads is None:
            heads = recorder.select_stream_versions([NOTICE_STREAM, RECIPIENT_STREAM])
        for stream in (NOTICE_STREAM, RECIPIENT_STREAM):
            if heads.get(stream, 0) <= self.versions[stream]:
                continue
            for row in recorder.select_events(stream, gt=self.versions[stream]):
                self._take(mapper.to_domain_event(row))

    def _take(self, event: ev.LedgerEvent) -> None:
        if isinstance(event, ev.NoticePublished):
            d = event.data
            self.notices.add(NoticeVersion(d.version, d.effective_from, d.definition, d.digest))
        elif isinstance(event, ev.RecipientRegistered):
            self.recipients[event.data.id] = event.data
            agreement = Agreement(event.occurred_at, event.data, event.originator_version)
            self.agreements.add(event.data.id, agreement)
        elif isinstance(event, ev.RecipientEnded):
            agreement = Agreement(event.occurred_at, None, event.originator_version)
            self.agreements.add(event.data.id, agreement)
        self.versions[event.originator_id] = event.originator_version
