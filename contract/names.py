"""The names a client calls the runtime by: the task queue, workflow types, and their updates,
queries and signals. Strings, so that a client never imports a workflow implementation; the
workflows register under these names, and a test holds both to the recorded histories."""

from __future__ import annotations

from typing import Final

TASK_QUEUE: Final = "agent-memory"


def background_task_queue(task_queue: str) -> str:
    """Where a worker on task_queue takes the turns' background work (knowledge ingestion and
    the reflections it starts): a queue of its own with few slots, so that work waits behind
    the turns instead of the turns waiting behind it."""
    return f"{task_queue}-background"


CONVERSATION_WORKFLOW: Final = "ConversationWorkflow"
SEND_MESSAGE_UPDATE: Final = "send_message"
CORRECT_UPDATE: Final = "correct"
LAST_TURN_QUERY: Final = "last_turn"
TURN_PROGRESS_QUERY: Final = "turn_progress"

KNOWLEDGE_INGESTION_WORKFLOW: Final = "KnowledgeIngestionWorkflow"
NOTEBOOK_EDIT_WORKFLOW: Final = "NotebookEditWorkflow"
DOCUMENT_INGESTION_WORKFLOW: Final = "DocumentIngestionWorkflow"
PROGRESS_QUERY: Final = "progress"

EMBEDDING_MIGRATION_WORKFLOW: Final = "EmbeddingMigrationWorkflow"
EMBEDDING_FENCE_WORKFLOW: Final = "EmbeddingFenceWorkflow"
PAUSE_SIGNAL: Final = "pause"
RESUME_SIGNAL: Final = "resume"
CANCEL_SIGNAL: Final = "cancel"

SKILL_REFLECTION_WORKFLOW: Final = "SkillReflectionWorkflow"
LESSON_REVIEW_WORKFLOW: Final = "LessonReviewWorkflow"
CODIFY_WORKFLOW: Final = "CodifyWorkflow"
RETENTION_WORKFLOW: Final = "RetentionWorkflow"

AGENT_DEFINITION_WORKFLOW: Final = "AgentDefinitionWorkflow"

FORGET_WORKFLOW: Final = "ForgetWorkflow"

# Activities added with end users and forgetting (older activity names live beside their classes).
CONVERSATION_CLAIM_USER_ACTIVITY: Final = "conversation_claim_user"
FORGET_SURVEY_ACTIVITY: Final = "forget_survey"
FORGET_TEMPORAL_ACTIVITY: Final = "forget_temporal"
FORGET_STORES_ACTIVITY: Final = "forget_stores"
FORGET_GRAPH_ACTIVITY: Final = "forget_graph"
FORGET_CACHE_ACTIVITY: Final = "forget_cache"
FORGET_KEYS_ACTIVITY: Final = "forget_keys"
FORGET_AUDIT_ACTIVITY: Final = "forget_audit"

# The kinds of workflow id that start with their tenant (`<kind>/<tenant>/...`): a forget
# finds a tenant's executions by them, and the codec a payload's tenant (crypto-shredding).
# The forget workflow ("forget/...") is not one: its report outlives the tenant.
TENANT_WORKFLOW_KINDS: Final = (
    "conversation",
    "ingest",
    "reflect",
    "notebook",
    "document",
    "codify",
    "lesson-review",
    "agent-definition",
    "fence",
    "migration",
    "skill",
    "cache-audit",
    "archive-export",
    "archive-import",
)
SWITCH_CHANGE_WORKFLOW: Final = "SwitchChangeWorkflow"
SKILL_CHANGE_WORKFLOW: Final = "SkillChangeWorkflow"
CACHE_AUDIT_REVIEW_WORKFLOW: Final = "CacheAuditReviewWorkflow"
ARCHIVE_EXPORT_WORKFLOW: Final = "ArchiveExportWorkflow"
ARCHIVE_IMPORT_WORKFLOW: Final = "ArchiveImportWorkflow"
