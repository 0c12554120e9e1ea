"""The call-up lifecycle as a hypothesis state machine over the real services and database.

Rules: accept, decline (or withdraw), the scheduler's ticks (expire, backfill, send) after the clock
moves on, cancel. Invariants after every step: a position never holds more acceptances than its
headcount and its counter equals the accepted call-ups; nobody is asked twice for one position; every
call-up that went out has exactly one invitation in the inbox and one 'sent' event; nothing stays open
past its deadline once the expiry tick ran; every call-up's last event names its current state.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from callups.dispatch import send_due_callups
from notices.models import Channel, Notification, NotificationKind
from campaigns import services
from campaigns.backfill import backfill_open_positions, update_campaign_statuses
from campaigns.models import CallUp, CallUpEvent, CallUpStatus, Campaign, CampaignStatus, Position
from campaigns.responses import accept_callup, decline_callup, expire_unanswered
from core.errors import Conflict
from extensions import db
from tests.conftest import Tree, empty_tables
from tests.db.test_recruitment import NOW, SAT_9, TZ, campaign, person

S = CallUpStatus
HEADCOUNT, PEOPLE = 3, 8


class CallUpLifecycle(RuleBasedStateMachine):
    @initialize()
    def publish(self):
        empty_tables()
        tree = Tree()
        for i in range(PEOPLE):
            person(tree.grid_a1, f"1391111{i:04d}")
        # An emergency: over-recruited (more open invitations than places), a ten-minute answer window
        # and waves, so full positions, standbys, expiries and backfills all come within a few steps.
        drafted = campaign(tree, headcount=HEADCOUNT, priority="emergency")
        self.campaign_id = drafted.id
        self.position_id = drafted.shifts[0].positions[0].id
        self.now = NOW
        self.ticked = True
        services.publish_campaign(self.campaign_id, actor="office", now=self.now, timezone_name=TZ)
        send_due_callups(now=self.now)

    def teardown(self):
        empty_tables()

    def _callups(self) -> list[CallUp]:
        db.session.expire_all()
        return list(db.session.scalars(select(CallUp).where(CallUp.position_id == self.position_id)
                                       .order_by(CallUp.id)))

    def _pick(self, index: int) -> int | None:
        callups = self._callups()
        return callups[index % len(callups)].id if callups else None

    @rule(index=st.integers(0, 50), answer=st.sampled_from([accept_callup, decline_callup]))
    def answer(self, index, answer):
        """Someone accepts or declines (withdraws); refusals (not open, full) are part of the game."""
        callup_id = self._pick(index)
        if callup_id is None:
            return
        try:
            answer(callup_id, actor="volunteer", now=self.now)
        except Conflict:
            db.session.rollback()

    @precondition(lambda self: self.now < SAT_9)
    @rule(minutes=st.sampled_from([1, 6, 11, 240]), run_ticks=st.booleans())
    def clock_moves(self, minutes, run_ticks):
        self.now = min(self.now + timedelta(minutes=minutes), SAT_9)
        self.ticked = False
        if run_ticks:
            self.ticks()

    @rule()
    def ticks(self):
        """The scheduler's jobs in their table's order."""
        expire_unanswered(now=self.now)
        update_campaign_statuses(now=self.now)
        backfill_open_positions(now=self.now, timezone_name=TZ)
        send_due_callups(now=self.now)
        self.ticked = True

    @rule()
    def cancel(self):
        try:
            services.cancel_campaign(self.campaign_id, reason="天气原因", actor="office", now=self.now)
        except Conflict:
            db.session.rollback()

    @invariant()
    def never_over_filled_and_the_counter_is_true(self):
        callups = self._callups()
        position = db.session.get(Position, self.position_id)
        accepted = sum(1 for c in callups if c.status is S.ACCEPTED)
        assert position.accepted_count == accepted <= position.headcount

    @invariant()
    def nobody_is_asked_twice(self):
        people = Counter(c.volunteer_id for c in self._callups())
        assert all(count == 1 for count in people.values()), people

    @invariant()
    def every_callup_that_went_out_has_one_invitation_and_one_sent_event(self):
        # ... and one more invitation each time a freed place was offered to it from standby.
        for callup in self._callups():
            invitations = db.session.scalar(select(func.count()).select_from(Notification).where(
                Notification.callup_id == callup.id, Notification.kind == NotificationKind.CALLUP,
                Notification.channel == Channel.INAPP))
            sent_events = db.session.scalar(select(func.count()).select_from(CallUpEvent).where(
                CallUpEvent.callup_id == callup.id, CallUpEvent.to_state == S.SENT.value,
                CallUpEvent.from_state == S.SCHEDULED.value))
            standby_offers = db.session.scalar(select(func.count()).select_from(CallUpEvent).where(
                CallUpEvent.callup_id == callup.id, CallUpEvent.from_state == S.SENT.value,
                CallUpEvent.to_state == S.SENT.value, CallUpEvent.note.like("standby: a place freed%")))
            went_out = callup.sent_at is not None
            assert (invitations, sent_events) == ((1 + standby_offers, 1) if went_out else (0, 0)), callup.id

    @invariant()
    def nothing_open_past_its_deadline_after_the_expiry_tick(self):
        if self.ticked:
            late = [c.id for c in self._callups()
                    if c.status is S.SENT and c.expires_at is not None and c.expires_at <= self.now]
            assert late == []

    @invariant()
    def the_last_event_names_the_current_state(self):
        for callup in self._callups():
            last = db.session.scalars(select(CallUpEvent).where(CallUpEvent.callup_id == callup.id)
                                      .order_by(CallUpEvent.id.desc()).limit(1)).first()
            if last is not None:
                assert last.to_state == callup.status.value, (callup.id, last.to_state, callup.status)

    @invariant()
    def a_cancelled_campaign_has_no_open_invitations(self):
        if db.session.get(Campaign, self.campaign_id).status is CampaignStatus.CANCELLED:
            assert not [c.id for c in self._callups() if c.status in (S.SCHEDULED, S.SENT)]


CallUpLifecycle.TestCase.settings = settings(
    max_examples=30, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def test_callup_lifecycle_keeps_its_invariants(app):
    CallUpLifecycle.TestCase().runTest()
