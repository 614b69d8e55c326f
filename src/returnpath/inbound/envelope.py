"""The envelope of one SMTP transaction, with the tenant its recipients belong to.

aiosmtpd keeps a transaction's state (sender, recipients, data) on an
``Envelope`` and lets the server say which class to use; ours adds the one thing
the handler learns on the way: the tenant chosen by the first accepted
recipient, which every later recipient of the transaction must share.
"""

from __future__ import annotations

from aiosmtpd.smtp import Envelope

from returnpath.store.tenants import TenantRef


class TenantEnvelope(Envelope):
    def __init__(self) -> None:
        super().__init__()
        self.tenant: TenantRef | None = None
