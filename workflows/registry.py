"""Every workflow the worker runs."""

from __future__ import annotations

from workflows.agent_definition import AgentDefinitionWorkflow
from workflows.archive import ArchiveExportWorkflow, ArchiveImportWorkflow
from workflows.codify import CodifyWorkflow
from workflows.conversation import ConversationWorkflow
from workflows.documents import DocumentIngestionWorkflow
from workflows.fence import EmbeddingFenceWorkflow
from workflows.forget import ForgetWorkflow
from workflows.ingestion import KnowledgeIngestionWorkflow
from workflows.migration import EmbeddingMigrationWorkflow
from workflows.notebook_edit import NotebookEditWorkflow
from workflows.operator_changes import CacheAuditReviewWorkflow, SkillChangeWorkflow
from workflows.reflection import LessonReviewWorkflow, SkillReflectionWorkflow
from workflows.retention import RetentionWorkflow
from workflows.switch_change import SwitchChangeWorkflow

WORKFLOWS = [
    ConversationWorkflow,
    KnowledgeIngestionWorkflow,
    NotebookEditWorkflow,
    DocumentIngestionWorkflow,
    EmbeddingMigrationWorkflow,
    EmbeddingFenceWorkflow,
    SkillReflectionWorkflow,
    LessonReviewWorkflow,
    CodifyWorkflow,
    RetentionWorkflow,
    AgentDefinitionWorkflow,
    ForgetWorkflow,
    SwitchChangeWorkflow,
    SkillChangeWorkflow,
    CacheAuditReviewWorkflow,
    ArchiveExportWorkflow,
    ArchiveImportWorkflow,
]
