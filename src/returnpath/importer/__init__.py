"""``returnpath import``: bounces kept in mailboxes and archives, through the same pipeline.

A message read from an mbox file, a Maildir, a folder of ``.eml`` files, an IMAP
folder or a POP3 maildrop is recorded exactly as one received over SMTP: its raw
bytes stored, parsed by the same parsers, judged by the same policy, its events
written to the outbox, in groups of one transaction each (``store.ingest.record_many``).

The folder reads as the flow: ``sources`` (what a source is) and one module per kind
of source (``mbox``, ``files``, ``imap``, ``pop3``) give raw messages; ``envelope``
recovers the envelope a mailbox no longer has; ``pipeline`` parses, groups, records
and moves the checkpoint; ``progress`` and ``summary`` tell the operator.
"""
