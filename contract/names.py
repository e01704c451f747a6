"""The names a client calls the runtime by: the task queue, workflow types, and their updates,
queries and signals. Strings, so that a client never imports a workflow implementation; the
workflows register under these names, and a test holds both to the recorded histories."""

from __future__ import annotations

from typing import Final

TASK_QUEUE: Final = "agent-memory"

CONVERSATION_WORKFLOW: Final = "ConversationWorkflow"
SEND_MESSAGE_UPDATE: Final = "send_message"
CORRECT_UPDATE: Final = "correct"
LAST_TURN_QUERY: Final = "last_turn"

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

ARCHIVE_EXPORT_WORKFLOW: Final = "ArchiveExportWorkflow"
ARCHIVE_IMPORT_WORKFLOW: Final = "ArchiveImportWorkflow"
