"""Prometheus metrics: what an operator graphs and alerts on.

Defined once here (the store is the layer every other part already knows);
``GET /metrics`` exposes them.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SMTP_REPLIES = Counter("returnpath_smtp_replies_total", "SMTP replies to DATA, by class", ["code"])
MESSAGES = Counter(
    "returnpath_messages_total",
    "messages recorded by the stage, by parser family",
    ["family", "duplicate"],
)
FINDINGS = Counter(
    "returnpath_findings_total", "findings recorded, by kind and verification", ["kind", "verified"]
)
SUPPRESSIONS = Counter("returnpath_suppressions_added_total", "addresses suppressed by bounces")
ACCEPT_SECONDS = Histogram(
    "returnpath_accept_seconds",
    "DATA received to 250 sent: the spool's shared disk sync",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
PUBLISHED = Counter("returnpath_events_published_total", "events confirmed by the broker")
PUBLISH_ERRORS = Counter(
    "returnpath_publish_errors_total", "relay errors (the outbox keeps the events)"
)
STAGE_GROUP_SECONDS = Histogram(
    "returnpath_stage_group_seconds",
    "one group of spooled messages recorded: one transaction",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
STAGE_LAG_SECONDS = Histogram(
    "returnpath_stage_lag_seconds",
    "250 sent to recorded: how long a verdict waits in the spool (last of each group)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
QUARANTINED = Counter(
    "returnpath_quarantined_total", "spooled messages the store refused, set aside for an operator"
)
SPOOL_BACKLOG_BYTES = Gauge(
    "returnpath_spool_backlog_bytes",
    "spooled bytes the stage has not recorded yet (this listener)",
    multiprocess_mode="max",
)
RAW_PURGED = Counter(
    "returnpath_raw_purged_total",
    "raw messages emptied after RETURNPATH_RAW_RETENTION_DAYS (events and suppressions stay)",
)
ERASED = Counter(
    "returnpath_addresses_erased_total",
    "addresses erased on request (DELETE /v1/addresses/{address}); still suppressed, by hash",
)
