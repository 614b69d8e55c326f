"""Webhooks: events pushed over HTTP, signed as Standard Webhooks, retried, replayable (issue 12).

The worker (``worker.WebhookWorker``) runs inside ``serve``: it fans committed
events out into ``webhookdelivery`` rows and sends them; the SMTP side never
waits for it. See docs/webhooks.md.
"""
