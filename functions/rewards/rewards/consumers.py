"""Rewards' events consumer (Handler `rewards.consumers.handler`, RewardsEventsFunction): earning from deals'
DealWon and DealWinReversed and training's CertificationEarned (CertificationDefined names certifications in rule
words), its own RewardHoldReleased (asks the approver again), PayoutPaid, RedemptionFulfilled, RewardAvailable and
RewardReversed (spending spread over the rewards it paid), and the workflow messages (the reward approval's
decisions, the available-after timers; B's payout and claim messages).

Each handler parses (an event by its contract, a workflow message by the union in rewards.models.messages) and calls
one service method; the rules are in the domain, the use cases in the services."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from contracts.deals import DealWinReversed, DealWon
from contracts.rewards import PayoutPaid, RedemptionFulfilled, RewardAvailable, RewardHoldReleased, RewardReversed
from contracts.training import CertificationDefined, CertificationEarned
from rewards.consumers_redemptions import handlers as redemption_handlers
from rewards.domain.earning import CertificationFact, DealFact
from rewards.domain.eligibility import start_of
from rewards.models.earning import RewardApprovalExpired, RewardAvailableDue, RewardDecision
from rewards.models.messages import workflow_message
from rewards.notifications import RewardEmails
from rewards.repository.store import RewardsRepository
from rewards.service.earning import EarningService
from rewards.settings import ConsumerSettings
from rewards.workflow import RewardWorkflowsAdapter
from shared.adapters import SchedulerTimers, SesMailer, StepFunctionsStarter
from shared.consumers import events_or_messages, sqs_handler
from shared.effects import SideEffects

SETTINGS = ConsumerSettings.from_env()


@cache
def earning() -> EarningService:
    return EarningService(
        repository=RewardsRepository(SETTINGS.table_name),
        workflows=RewardWorkflowsAdapter(
            SETTINGS,
            starter=StepFunctionsStarter(),
            timers=SchedulerTimers(SETTINGS.schedule_group, SETTINGS.scheduler_role_arn, SETTINGS.workflow_queue_arn),
        ),
        mailer=SesMailer(str(SETTINGS.mail_from)),
        notices=RewardEmails(str(SETTINGS.portal_url)),
        effects=SideEffects(SETTINGS.table_name),
    )


# ------------------------------------------------------------------ events (the bus, de-duplicated by event id)
def on_deal_won(event: DealWon) -> str:
    if not event.registered_by:
        return f"deal {event.deal_id}: no registered_by (published before it was added), nobody to reward"
    return earning().earn(
        DealFact(
            partner_id=event.partner_id,
            deal_id=event.deal_id,
            revision=event.win_revision,
            amount_minor=event.amount.amount_minor,
            currency=event.amount.currency,
            at=start_of(event.close_date),
            products=tuple(event.products),
            earner=event.registered_by.lower(),
            prospect_name=event.prospect_name,
        )
    )


def on_win_reversed(event: DealWinReversed) -> str:
    return earning().win_reversed(
        deal_id=event.deal_id, revision=event.win_revision, reason=event.reason, reversed_by=event.reversed_by
    )


def on_certification_earned(event: CertificationEarned) -> str:
    if event.renewal:
        return f"{event.award_id}: a renewal earns nothing new"
    return earning().earn(
        CertificationFact(
            partner_id=event.partner_id,
            certification_id=event.certification_id,
            award_id=event.award_id,
            at=event.earned_at,
            earner=event.holder_email,
            certification_name=event.certification_name,
        )
    )


def on_certification_defined(event: CertificationDefined) -> str:
    return earning().certification_defined(event.certification_id, event.certification_name, event.defined_at)


def on_hold_released(event: RewardHoldReleased) -> str:
    return earning().hold_released(event.reward_id)


REDEMPTION_EVENTS, REDEMPTION_MESSAGES = redemption_handlers(SETTINGS, earning)  # B: payouts and claims


# ------------------------------------------------------------------ spending spread over rewards (which ones it paid)
def on_payout_paid(event: PayoutPaid) -> str:
    announced = REDEMPTION_EVENTS[PayoutPaid.DETAIL_TYPE][1](event)  # the payee's email (once)
    return f"{announced}; {earning().settle(event.partner_id, event.person_email, event.amount.currency)}"


def on_item_fulfilled(event: RedemptionFulfilled) -> str:
    return earning().settle(event.partner_id, event.person_email, event.amount.unit)


def on_reward_available(event: RewardAvailable | RewardReversed) -> str:
    """Spending that found no reward to cover (a clawback already spent) is covered by the next available one; a
    reversed reward that was paid gives what was spread over it back, to the next available ones."""
    return earning().settle(event.partner_id, event.person_email, event.amount.unit)


EVENT_HANDLERS: dict[str, tuple[type[Any], Any]] = (
    {
        DealWon.DETAIL_TYPE: (DealWon, on_deal_won),
        DealWinReversed.DETAIL_TYPE: (DealWinReversed, on_win_reversed),
        CertificationEarned.DETAIL_TYPE: (CertificationEarned, on_certification_earned),
        CertificationDefined.DETAIL_TYPE: (CertificationDefined, on_certification_defined),
        RewardHoldReleased.DETAIL_TYPE: (RewardHoldReleased, on_hold_released),
    }
    | REDEMPTION_EVENTS
    | {
        PayoutPaid.DETAIL_TYPE: (PayoutPaid, on_payout_paid),
        RedemptionFulfilled.DETAIL_TYPE: (RedemptionFulfilled, on_item_fulfilled),
        RewardAvailable.DETAIL_TYPE: (RewardAvailable, on_reward_available),
        RewardReversed.DETAIL_TYPE: (RewardReversed, on_reward_available),
    }
)


# ------------------------------------------------------------------ workflow messages (state machines and timers)
MESSAGE_HANDLERS: dict[type[Any], Callable[[Any], str]] = {
    RewardDecision: lambda message: earning().apply_decision(message),
    RewardApprovalExpired: lambda message: earning().approval_lapsed(message),
    RewardAvailableDue: lambda message: earning().make_available(message),
} | REDEMPTION_MESSAGES


def on_workflow_message(body: dict[str, Any], context: Any) -> str:
    message = workflow_message(body)
    return MESSAGE_HANDLERS[type(message)](message)


handle_message = events_or_messages(EVENT_HANDLERS, on_workflow_message, table_name=SETTINGS.table_name)


handler = sqs_handler(handle_message)
