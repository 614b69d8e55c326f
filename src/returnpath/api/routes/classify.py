"""/v1/classify: the verdict on a bare SMTP reply or a bounce text (``returnpath.classify``).

For a sending relay that was refused synchronously, an MTA log line, a support ticket:
the same decision and evidence a received bounce gets, without recording anything.
Any key may ask (read scope). The body is bounded (``api.limits.CLASSIFY_LIMIT``) and
the text again by its length.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from returnpath.api.deps import Reader
from returnpath.classify import MAX_TEXT, classify_text

router = APIRouter(prefix="/v1/classify", tags=["classify"])


class ClassifyRequest(BaseModel):
    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="an SMTP reply or a bounce's words, without headers",
        examples=["550 5.1.1 <a@example.org>: Recipient address rejected: User unknown"],
    )
    status: str | None = Field(
        default=None, max_length=32, description="an enhanced status code known from elsewhere"
    )
    command: Literal["CONN", "HELO", "EHLO", "MAIL", "RCPT", "DATA"] | None = Field(
        default=None, description="the SMTP command the reply answered, when known"
    )


class ClassifyResult(BaseModel):
    kind: str
    reason: str
    status: str | None
    smtp_code: str | None
    fault: Literal["recipient", "sender", "network", "unknown"] = Field(
        description="whose fault: the recipient's address or mailbox, our sending, "
        "the path or the receiving system, or not said"
    )
    decided_by: str = Field(description="the rule row or step that decided (see explain)")
    evidence: str | None = Field(description="what that row matched in the text")


@router.post("", response_model=ClassifyResult)
async def classify(body: ClassifyRequest, _: Reader) -> ClassifyResult:
    """Kind, reason, codes, whose fault, and the evidence, for one reply or bounce text."""
    result = classify_text(body.text, body.status, body.command)
    return ClassifyResult(**result.to_dict())
