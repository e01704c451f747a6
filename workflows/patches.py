"""Every `workflow.patched` flag in one place, with its life stage.

A flag lives through three stages (as Temporal's patching sample shows): *patched* (new runs
take the new branch, recorded histories without the marker replay the old one), then
*deprecated* (`workflow.deprecate_patch`, once no open run or kept history takes the old
branch), then *removed*. Each flag below says which recorded histories in tests/histories/
still take its old branch: a flag can move on only when that list is empty (or those files
are retired on purpose). Flag values are recorded in histories: never change one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    PATCHED = "patched"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


@dataclass(frozen=True)
class Patch:
    id: str
    workflow: str
    stage: Stage
    why: str
    # Recorded histories that replay the branch from before the flag (no marker for it).
    old_branch_histories: str


KNOWLEDGE_GRAPH = Patch(
    "knowledge-graph",
    "ConversationWorkflow",
    Stage.PATCHED,
    "turns read the graph and start a knowledge-ingestion child",
    "conversation-running-0723299b, -f19ef9c3, conversation-continued_as_new-01a20166, -c35e2a4e, -c6364b43",
)
LEARNING = Patch(
    "learning-from-work",
    "ConversationWorkflow (and its ToolRunner)",
    Stage.PATCHED,
    "turns read skills, episodes and the session cache; refused tool calls are logged",
    "the five above, conversation-learning-running-3791cfb4 and the seven knowledge-graph-only "
    "conversation-continued_as_new histories (4d783e45, 691bd23d, 88d99165, 9223cacd, b9fa5e2a)",
)
TURN_DURABILITY = Patch(
    "turn-request-ids-and-failure-audit",
    "ConversationWorkflow",
    Stage.PATCHED,
    "a turn keeps its request id, and a turn failed by any step is recorded as failed",
    "every conversation history without the learning flag, and conversation-learning-continued_as_new-*",
)
LOCAL_WRITES = Patch(
    "turn-local-store-writes",
    "ConversationWorkflow",
    Stage.PATCHED,
    "the turn's short writes run as local activities",
    "all of the above, and conversation-resend-continued_as_new-39bc4847, -3df78fb4",
)
TURN_STEPS = Patch(
    "turn-read-and-commit-steps",
    "ConversationWorkflow",
    Stage.PATCHED,
    "a turn reads every layer in one activity and writes everything after the reply in one",
    "every conversation history recorded before it; these take its new branch: "
    "conversation-continued_as_new-5478d408, -66af4c32, -83a3b0a5, -c7a725fb, "
    "conversation-learning-continued_as_new-570d318f, -9dcc8657, "
    "conversation-resend-continued_as_new-018651d5, -468eac0f",
)
EPISODIC = Patch(
    "episodic-memory",
    "KnowledgeIngestionWorkflow",
    Stage.PATCHED,
    "an exchange is stored as an episode before the gates",
    "ingestion-completed-fee224fe, ingestion-gated-completed-5500efee",
)

THREAD_USERS = Patch(
    "thread-users",
    "ConversationWorkflow",
    Stage.PATCHED,
    "a new run binds its thread to the thread's end user (or refuses another user) before its first turn",
    "every conversation history recorded before it",
)

AGENT_DEFINITIONS = Patch(
    "agent-definitions",
    "ConversationWorkflow",
    Stage.PATCHED,
    "a turn answers as the thread's agent as its operator defined it: instructions, model, tools, reads",
    "every conversation history but conversation-agent-continued_as_new-d9a47ea0 and -running-4ad825c4",
)
AGENT_LIMITS = Patch(
    "agent-limits",
    "ConversationWorkflow",
    Stage.PATCHED,
    "a turn first resolves its agent version (a local activity): the version's limits apply to the "
    "thread under the caller's own, and a failed turn records the version",
    "every conversation history but conversation-agent-continued_as_new-d9a47ea0 and -running-4ad825c4, "
    "which take its new branch",
)
TURN_LOCAL_STEPS = Patch(
    "turn-steps-local",
    "ConversationWorkflow",
    Stage.PATCHED,
    "a turn's read and commit steps run as local activities: only the model call (and tools) go "
    "through the server",
    "every conversation history recorded before it; these take its new branch: "
    "conversation-continued_as_new-1488c3ce, -21ac7023, conversation-resend-continued_as_new-55b26ddb",
)
INGESTION_BACKGROUND_QUEUE = Patch(
    "ingestion-background-queue",
    "ConversationWorkflow",
    Stage.PATCHED,
    "a turn's knowledge-ingestion child runs on the background task queue, not the turns' queue",
    "every conversation history recorded before it; these take its new branch: "
    "conversation-continued_as_new-473b7498, -779f743f",
)

INGESTION_LOCAL_STEPS = Patch(
    "ingestion-local-steps",
    "KnowledgeIngestionWorkflow",
    Stage.PATCHED,
    "an exchange's gates are decided first, as a local activity, and a short message's episode "
    "(no model call) is stored as one too: a short exchange's ingestion is one workflow task",
    "every ingestion history recorded before it; these take its new branch: "
    "ingestion-completed-356d9026, ingestion-corrected-completed-0e7b88c2, ingestion-gated-completed-4e182494",
)
AGENT_AND_READ_TOGETHER = Patch(
    "turn-agent-and-read-together",
    "ConversationWorkflow",
    Stage.PATCHED,
    "a turn resolves its agent version and reads its memory at the same time (two local "
    "activities in flight at once), not one after the other",
    "every conversation history recorded before it; these take its new branch: "
    "conversation-continued_as_new-b93e2b7f, -dbbfd6a4, conversation-agent-continued_as_new-b54b24c1",
)
ALL = (KNOWLEDGE_GRAPH, LEARNING, TURN_DURABILITY, LOCAL_WRITES, TURN_STEPS, EPISODIC, AGENT_DEFINITIONS, AGENT_LIMITS, THREAD_USERS,
       TURN_LOCAL_STEPS, INGESTION_BACKGROUND_QUEUE, INGESTION_LOCAL_STEPS, AGENT_AND_READ_TOGETHER)
