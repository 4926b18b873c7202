"""Scores to the LMS's gradebook (Assignment and Grade Services 2.0).

- :func:`create_line_items` makes one gradebook column per assessment of the linked course
  instance (``scoreMaximum`` 100, ``resourceId`` the assessment id), once.
- :func:`queue_scores` puts in the outbox (``lti_scores``) each student's score whose message
  (:func:`coursegate.lti.grades.score_message`) differs from the last one queued.
- :func:`send_scores` sends, for each (column, student), only the newest unsent score — older
  ones are superseded, so the LMS never gets two out of order — and on 429 or 5xx waits longer
  each time (:func:`coursegate.lti.grades.next_try`) before marking it failed; staff can resend.

Staff with ``vgr`` (view grades) may look; sending needs ``mgr`` (modify grades). The server's
periodic job queues and sends for every linked course.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coursegate.core.instants import format_instant, zone
from coursegate.lti.grades import Attempt, ScoreMessage, next_try, retryable, score_message
from coursegate.services.common.authz import require
from coursegate.services.common.context import SYSTEM, Ctx
from coursegate.services.common.errors import Invalid, NotFound
from coursegate.services.common.places import instance_area, instance_label
from coursegate.services.history import log as history
from coursegate.services.lti.tokens import PlatformTokens, PlatformUnavailable
from coursegate.store.db import transaction
from coursegate.store.models import (
    Assessment,
    AssessmentInstance,
    LtiContext,
    LtiIdentity,
    LtiLineItem,
    LtiScore,
    User,
)

LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
TIMEOUT_SECONDS = 15.0

Send = Callable[[str, str, str, dict[str, Any]], tuple[int, Any]]
"""POSTs JSON (URL, bearer token, media type, body) → (status, JSON answer or None)."""


def _send(url: str, token: str, media_type: str, body: dict[str, Any]) -> tuple[int, Any]:
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        r = client.post(
            url,
            json=body,
            headers={"authorization": f"Bearer {token}", "content-type": media_type},
        )
        try:
            answer = r.json() if r.content else None
        except ValueError:
            answer = None
        return r.status_code, answer


def _context(ctx: Ctx, context_row_id: int, privilege: str, what: str) -> LtiContext:
    context = ctx.session.get(LtiContext, context_row_id)
    if context is None or context.course_instance is None:
        raise NotFound("there is no linked LMS course with that id", "context")
    ci = context.course_instance
    require(ctx, privilege, instance_area(ci), f"{what} of {instance_label(ci)}")
    return context


def create_line_items(
    ctx: Ctx, context_row_id: int, *, tokens: PlatformTokens, send: Send = _send
) -> int:
    """A gradebook column in the LMS for every assessment that has none yet; how many made."""
    context = _context(ctx, context_row_id, "mgr", "create the LMS gradebook columns")
    if not context.lineitems_url:
        raise Invalid(
            f"{context.platform.name} has not offered its grade service for this course: launch "
            "once from the LMS course, and check the tool may create columns and post scores",
            "context",
        )
    ci = context.course_instance
    assert ci is not None
    have = set(
        ctx.session.scalars(
            select(LtiLineItem.assessment_id).where(LtiLineItem.context_id == context.id)
        )
    )
    token = tokens.token(ctx, context.platform, (LINEITEM_SCOPE, SCORE_SCOPE))
    made = 0
    for a in ctx.session.scalars(
        select(Assessment)
        .where(Assessment.course_instance_id == ci.id, Assessment.retired_at.is_(None))
        .order_by(Assessment.aid)
    ):
        if a.id in have:
            continue
        label = f"{a.set_name} {a.number}: {a.title}".strip(": ") or a.aid
        body = {"scoreMaximum": 100, "label": label, "resourceId": a.aid, "tag": "coursegate"}
        status, answer = send(
            context.lineitems_url, token, "application/vnd.ims.lis.v2.lineitem+json", body
        )
        if status >= 300 or not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise PlatformUnavailable(
                f"{context.platform.name} did not make the column for {a.aid} (it answered "
                f"{status})",
                "context",
            )
        ctx.session.add(
            LtiLineItem(
                context_id=context.id, assessment_id=a.id, url=answer["id"][:1000],
                label=label[:300], created_at=ctx.at,
            )
        )  # fmt: skip
        made += 1
    ctx.session.flush()
    history.record(
        ctx, "lti.line_items_created", "course_instance", instance_label(ci),
        course_instance_id=ci.id, platform=context.platform.name, made=made,
    )  # fmt: skip
    return made


def _last_queued(ctx: Ctx, item_ids: list[int]) -> dict[tuple[int, int], ScoreMessage]:
    last: dict[tuple[int, int], ScoreMessage] = {}
    rows = ctx.session.scalars(
        select(LtiScore).where(LtiScore.line_item_id.in_(item_ids)).order_by(LtiScore.id)
    )
    for r in rows:
        last[(r.line_item_id, r.user_id)] = ScoreMessage(
            r.score_given, r.score_maximum, r.activity_progress, r.grading_progress, r.timestamp
        )
    return last


def queue_scores(ctx: Ctx, context: LtiContext) -> int:
    """Queue every linked student's score that changed since the last one queued."""
    items = {
        i.assessment_id: i
        for i in ctx.session.scalars(
            select(LtiLineItem).where(LtiLineItem.context_id == context.id)
        )
    }
    if not items:
        return 0
    linked = set(
        ctx.session.scalars(
            select(LtiIdentity.user_id).where(
                LtiIdentity.platform_id == context.platform_id, LtiIdentity.test_user.is_(False)
            )
        )
    )
    attempts: dict[tuple[int, int], list[Attempt]] = {}
    for inst in ctx.session.scalars(
        select(AssessmentInstance).where(AssessmentInstance.assessment_id.in_(list(items)))
    ):
        if inst.user_id in linked:
            attempts.setdefault((inst.assessment_id, inst.user_id), []).append(
                Attempt(inst.open, inst.score_percent, inst.closed_at or inst.started_at)
            )
    last = _last_queued(ctx, [i.id for i in items.values()])
    queued = 0
    for (assessment_id, user_id), seen in sorted(attempts.items()):
        message = score_message(seen)
        item = items[assessment_id]
        if message is None or message.same_as(last.get((item.id, user_id))):
            continue
        ctx.session.add(
            LtiScore(
                line_item_id=item.id, user_id=user_id, score_given=message.score_given,
                score_maximum=message.score_maximum, activity_progress=message.activity_progress,
                grading_progress=message.grading_progress, timestamp=message.timestamp,
                status="pending", tries=0, next_try_at=ctx.at, last_error="", created_at=ctx.at,
            )
        )  # fmt: skip
        queued += 1
    ctx.session.flush()
    return queued


@dataclass(frozen=True)
class Sent:
    sent: int
    waiting: int
    failed: int
    superseded: int


def send_scores(
    ctx: Ctx, context: LtiContext, *, tokens: PlatformTokens, send: Send = _send
) -> Sent:
    """Send what is due in the outbox of one linked course (see the module)."""
    rows = list(
        ctx.session.scalars(
            select(LtiScore)
            .join(LtiLineItem, LtiLineItem.id == LtiScore.line_item_id)
            .where(LtiLineItem.context_id == context.id, LtiScore.status == "pending")
            .order_by(LtiScore.timestamp, LtiScore.id)
        )
    )
    newest: dict[tuple[int, int], LtiScore] = {}
    superseded = 0
    for r in rows:
        older = newest.get((r.line_item_id, r.user_id))
        if older is not None:
            older.status = "superseded"
            superseded += 1
        newest[(r.line_item_id, r.user_id)] = r
    due = [r for r in newest.values() if (r.next_try_at or 0) <= ctx.at]
    if not due:
        return Sent(0, len(newest), 0, superseded)
    token = tokens.token(ctx, context.platform, (SCORE_SCOPE,))
    subs = dict(
        (u, s)
        for u, s in ctx.session.execute(
            select(LtiIdentity.user_id, LtiIdentity.sub).where(
                LtiIdentity.platform_id == context.platform_id
            )
        )
    )
    urls = {
        i.id: i.url
        for i in ctx.session.scalars(
            select(LtiLineItem).where(LtiLineItem.context_id == context.id)
        )
    }
    sent = failed = 0
    for r in due:
        body = {
            "userId": subs[r.user_id],
            "scoreGiven": r.score_given,
            "scoreMaximum": r.score_maximum,
            "activityProgress": r.activity_progress,
            "gradingProgress": r.grading_progress,
            "timestamp": format_instant(r.timestamp, zone("UTC")),
        }
        url = urls[r.line_item_id].split("?", 1)
        target = url[0].rstrip("/") + "/scores" + (f"?{url[1]}" if len(url) > 1 else "")
        try:
            status, _ = send(target, token, "application/vnd.ims.lis.v1.score+json", body)
            error = "" if status < 300 else f"the LMS answered {status}"
        except httpx.HTTPError as exc:
            status, error = 503, f"the LMS could not be reached ({type(exc).__name__})"
        r.tries += 1
        if not error:
            r.status, r.sent_at, r.next_try_at, r.last_error = "sent", ctx.at, None, ""
            sent += 1
            continue
        r.last_error = error[:500]
        again = next_try(r.tries, ctx.at) if retryable(status) else None
        if again is None:
            r.status, r.next_try_at = "failed", None
            failed += 1
        else:
            r.next_try_at = again
    ctx.session.flush()
    return Sent(sent, len(newest) - sent - failed, failed, superseded)


def sync_grades(
    ctx: Ctx, context_row_id: int, *, tokens: PlatformTokens, send: Send = _send
) -> Sent:
    """Queue and send now (staff, ``mgr``)."""
    context = _context(ctx, context_row_id, "mgr", "send scores to the LMS")
    queue_scores(ctx, context)
    done = send_scores(ctx, context, tokens=tokens, send=send)
    ci = context.course_instance
    assert ci is not None
    history.record(
        ctx, "lti.scores_sent", "course_instance", instance_label(ci), course_instance_id=ci.id,
        platform=context.platform.name, sent=done.sent, waiting=done.waiting,
        failed=done.failed, superseded=done.superseded,
    )  # fmt: skip
    return done


def resend_failed(ctx: Ctx, context_row_id: int) -> int:
    """Put the failed scores of a linked course back in the outbox (staff, ``mgr``)."""
    context = _context(ctx, context_row_id, "mgr", "resend scores to the LMS")
    rows = list(
        ctx.session.scalars(
            select(LtiScore)
            .join(LtiLineItem, LtiLineItem.id == LtiScore.line_item_id)
            .where(LtiLineItem.context_id == context.id, LtiScore.status == "failed")
        )
    )
    for r in rows:
        r.status, r.tries, r.next_try_at = "pending", 0, ctx.at
    ctx.session.flush()
    ci = context.course_instance
    assert ci is not None
    history.record(
        ctx, "lti.scores_resent", "course_instance", instance_label(ci), course_instance_id=ci.id,
        platform=context.platform.name, scores=len(rows),
    )  # fmt: skip
    return len(rows)


def outbox(ctx: Ctx, context_row_id: int) -> tuple[LtiContext, list[tuple[LtiScore, str, str]]]:
    """What was sent, waits or failed, newest first, with each score's column and student
    (staff, ``vgr``)."""
    context = _context(ctx, context_row_id, "vgr", "see the scores sent to the LMS")
    rows = ctx.session.execute(
        select(LtiScore, LtiLineItem.label, User.uid)
        .join(LtiLineItem, LtiLineItem.id == LtiScore.line_item_id)
        .join(User, User.id == LtiScore.user_id)
        .where(LtiLineItem.context_id == context.id)
        .order_by(LtiScore.id.desc())
        .limit(500)
    )
    return context, [(s, label, uid) for s, label, uid in rows]


def pump(factory: sessionmaker[Session], tokens: PlatformTokens, *, at: int) -> dict[str, int]:
    """The server's periodic job: for every linked course with gradebook columns, queue the
    changed scores and send what is due — each course in a transaction of its own, so that one
    LMS that is down holds up no other."""
    with transaction(factory) as s:
        ids = sorted(set(s.scalars(select(LtiLineItem.context_id))))
    total = {"sent": 0, "waiting": 0, "failed": 0}
    for context_id in ids:
        try:
            with transaction(factory) as s:
                ctx = Ctx(s, SYSTEM, at)
                context = s.get(LtiContext, context_id)
                if context is None or context.course_instance is None:
                    continue
                queue_scores(ctx, context)
                done = send_scores(ctx, context, tokens=tokens)
        except PlatformUnavailable:
            continue  # its outbox waits for the next run
        total["sent"] += done.sent
        total["waiting"] += done.waiting
        total["failed"] += done.failed
    return total
