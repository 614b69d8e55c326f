"""Small messages built in code for the service tests (the parser fixtures live in tests/fixtures)."""

from __future__ import annotations


def dsn(
    recipient: str,
    status: str = "5.1.1",
    action: str = "failed",
    diagnostic: str = "550 5.1.1 <{r}>: Recipient address rejected: User unknown",
    message_id: str = "<dsn-1@mx.example.net>",
) -> bytes:
    diag = diagnostic.format(r=recipient)
    return f"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: bounce@bounces.example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: {message_id}
Date: Mon, 23 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Auto-Submitted: auto-replied
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.
I'm sorry to have to inform you that your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon, 23 Nov 2026 09:59:58 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.remote.example
Diagnostic-Code: smtp; {diag}

--BOUNDARY
Content-Type: text/rfc822-headers

From: news@example.com
To: {recipient}
Subject: Our newsletter
Message-ID: <orig-1@example.com>

--BOUNDARY--
""".replace("\n", "\r\n").encode()


def arf(recipient: str, message_id: str = "<arf-1@fbl.example.net>") -> bytes:
    return f"""From: feedback@fbl.example.net
To: fbl@bounces.example.com
Subject: Abuse report
Message-ID: {message_id}
Date: Mon, 23 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Mail-From: <b+x@bounces.example.com>
Original-Rcpt-To: <{recipient}>
Source-IP: 192.0.2.1
Arrival-Date: Mon, 23 Nov 2026 09:00:00 +0000

--ARF
Content-Type: message/rfc822

From: news@example.com
To: {recipient}
Subject: Our newsletter
Message-ID: <orig-2@example.com>

Hello
--ARF--
""".replace("\n", "\r\n").encode()
