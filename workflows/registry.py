"""Every workflow the worker runs."""

from __future__ import annotations

from workflows.agent_definition import AgentDefinitionWorkflow
from workflows.archive import ArchiveExportWorkflow, ArchiveImportWorkflow
from workflows.codify import CodifyWorkflow
from workflows.conversation import ConversationWorkflow
from workflows.documents import DocumentIngestionWorkflow
from workflows.fence import EmbeddingFenceWorkflow
from workflows.ingestion import KnowledgeIngestionWorkflow
from workflows.migration import EmbeddingMigrationWorkflow
from workflows.notebook_edit import NotebookEditWorkflow
from workflows.reflection import LessonReviewWorkflow, SkillReflectionWorkflow
from workflows.retention import RetentionWorkflow

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
    ArchiveExportWorkflow,
    ArchiveImportWorkflow,
]
