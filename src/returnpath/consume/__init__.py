"""``returnpath consume``: the reference consumer of the events on RabbitMQ.

Split by job: ``ledger`` remembers which events were handled (idempotency on
``message_id``) and how often each failed; ``handlers`` do something with one
event (print it as a JSON line, or run a command with it on standard input);
``consumer`` owns the broker side (queue declaration, prefetch, manual acks,
dead-lettering, reconnection). The relay publishes at least once and the
broker redelivers whatever was not acknowledged, so the ledger is what turns
"at least once" into "handled once" for the consumer's own side effects.
"""
