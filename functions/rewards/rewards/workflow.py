"""Adapter of `rewards.ports.RewardWorkflows`: the reward approval workflow (Step Functions; an approver decides by
signed email link through the approvals service) and the one-time timer (EventBridge Scheduler) that makes an
approved reward available after its campaign's waiting days. Both are named after the reward: a repeated start or
schedule does nothing new."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rewards.domain.campaigns import amount_words
from rewards.models.earning import Campaign, Reward, RewardAvailableDue
from rewards.settings import ConsumerSettings
from shared.clock import readable, timer_time
from shared.ports import TimerScheduler, WorkflowStarter
from shared.workflows import approval_route


def execution_name(reward_id: str, approval_round: int = 1) -> str:
    """One approval (and execution) per reward and approval round (a released hold whose approval lapsed asks
    again, as round 2 ...)."""
    return f"reward-{reward_id}" + (f"-r{approval_round}" if approval_round > 1 else "")


def approval_input(settings: ConsumerSettings, reward: Reward, campaign: Campaign) -> dict[str, Any]:
    """What the approver weighs, who decides, how long each step waits."""
    amount = amount_words(reward.amount, reward.unit)
    summary = [
        {"label": "Request", "value": "Reward approval"},
        {"label": "Campaign", "value": campaign.name},
        {"label": "Earned by", "value": f"{reward.person_email} (partner {reward.partner_id})"},
        {"label": "Amount", "value": amount},
        {"label": "For", "value": reward.source.description},
        {"label": "Rule", "value": reward.rule_words},
        {"label": "Fact date", "value": readable(reward.fact_at)},
        {
            "label": "Budget committed",
            "value": f"{amount_words(campaign.committed, campaign.unit)} of "
            f"{amount_words(campaign.budget, campaign.unit)}",
        },
    ]
    return {
        "approval_id": execution_name(reward.reward_id, reward.approval_round),
        "reward_id": reward.reward_id,
        "subject": f"Reward approval: {amount} for {reward.person_email}",
        "summary": summary,
        **approval_route(str(settings.approver_email), str(settings.escalation_email), settings),
    }


@dataclass(frozen=True)
class RewardWorkflowsAdapter:
    settings: ConsumerSettings
    starter: WorkflowStarter
    timers: TimerScheduler

    def start_approval(self, reward: Reward, campaign: Campaign) -> str:
        payload = approval_input(self.settings, reward, campaign)
        return self.starter.start(
            self.settings.reward_approval_state_machine_arn,
            execution_name(reward.reward_id, reward.approval_round),
            payload,
        )

    def schedule_available(self, reward: Reward, at: datetime, now: datetime) -> str:
        due = (at + timedelta(seconds=1)).replace(microsecond=0) if at.microsecond else at  # never early
        message = RewardAvailableDue(message_type="RewardAvailableDue", reward_id=reward.reward_id, due_at=due)
        return self.timers.schedule(
            f"rewards-available-{reward.reward_id}", [(timer_time(due), message.model_dump(mode="json"))], now
        )
