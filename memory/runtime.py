"""Wiring of the memory layers over one database, one model client and the embedders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from memory.agents.model_choice import AgentModels
from memory.agents.store import AgentDefinitions
from memory.archive.files import ArchiveDirectory
from memory.conversation.store import ConversationStore
from memory.conversation.turn_log import TurnLog
from memory.core.config import Settings
from memory.core.db import create_engine
from memory.core.switches import SwitchBoard
from memory.core.tenants import TenantRegistry
from memory.core.usage import UsageLedger
from memory.documents.library import DocumentLibrary
from memory.documents.notebook import Notebook, NotebookLimits
from memory.documents.path_store import DocumentStore
from memory.documents.skills import SkillLibrary
from memory.embedding.migration import EmbeddingMigration
from memory.embedding.registry import build_embedder
from memory.forget.service import MemoryEraser
from memory.graph.clients import GraphClientsFactory
from memory.graph.episode_queue import EpisodeQueue
from memory.graph.graphiti_store import GraphMemory
from memory.graph.ingestion_log import IngestionLog
from memory.graph.service import KnowledgeGraph
from memory.learning.cache_audit import CacheAudit
from memory.learning.codify import Codifier
from memory.learning.command_form import CommandNormalizer
from memory.learning.corrections import CorrectionLog
from memory.learning.episode_recording import EpisodeRecorder
from memory.learning.episode_search import EpisodeSearch
from memory.learning.episodic import EpisodicMemory
from memory.learning.lesson_review import LessonReview
from memory.learning.reflection import Reflector
from memory.learning.retention import Retention
from memory.learning.session_cache import SessionCache
from memory.llm.base import LLMClient
from memory.recall.service import EmbedderPool, RecallMemory, fusion_settings
from memory.recall.store import HnswSettings, RecallStore
from memory.tools.command_runner import CommandPolicy, CommandRunner
from memory.tools.log import ToolLog


def build_llm(settings: Settings) -> LLMClient:
    """The real model when a key is configured; otherwise the offline stand-in."""
    if settings.anthropic_api_key:
        from memory.llm.anthropic_client import AnthropicClient

        return AnthropicClient(settings.anthropic_api_key, settings.anthropic_model)
    from memory.llm.offline import OfflineModel

    return OfflineModel(context_window_tokens=settings.offline_context_window_tokens)


@dataclass
class MemoryRuntime:
    settings: Settings
    engine: AsyncEngine
    llm: LLMClient
    conversation: ConversationStore
    documents: DocumentStore
    notebook: Notebook
    recall: RecallMemory
    turns: TurnLog
    ledger: UsageLedger
    tenants: TenantRegistry
    switches: SwitchBoard
    knowledge: KnowledgeGraph
    library: DocumentLibrary
    migration: EmbeddingMigration
    embedders: EmbedderPool
    session_cache: SessionCache
    cache_audit: CacheAudit
    episodic: EpisodicMemory
    episode_search: EpisodeSearch
    skills: SkillLibrary
    commands: CommandRunner
    tool_log: ToolLog
    corrections: CorrectionLog
    retention: Retention
    episode_recorder: EpisodeRecorder
    codifier: Codifier
    lessons: LessonReview
    reflector: Reflector
    agents: AgentDefinitions
    agent_models: AgentModels
    eraser: MemoryEraser

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        engine: AsyncEngine | None = None,
        llm: LLMClient | None = None,
        embedders: EmbedderPool | None = None,
        graph: GraphMemory | None = None,
    ) -> "MemoryRuntime":
        if engine is None:
            if not settings.database_url:
                raise ValueError("DATABASE_URL is not set: it names the Postgres database of the memory stores")
            engine = create_engine(settings.database_url)
        if graph is None:
            if not settings.graph_url:
                raise ValueError("GRAPH_URL is not set: it names the graph database of the knowledge graph")
            graph = GraphMemory(
                settings.graph_url,
                GraphClientsFactory.from_settings(settings),
                neo4j_user=settings.neo4j_user,
                neo4j_password=settings.neo4j_password,
            )
        if not settings.redis_url:
            raise ValueError("REDIS_URL is not set: it names the Redis server of the session-learning cache")
        llm = llm or build_llm(settings)
        ledger = UsageLedger(engine)
        tenants = TenantRegistry(engine, settings.embedding_model)
        documents = DocumentStore(engine)
        conversation = ConversationStore(engine)
        switches = SwitchBoard(engine, default_ingest_min_chars=settings.ingest_min_chars)
        pool = embedders or EmbedderPool(lambda model_id: build_embedder(model_id, settings))
        audit = CacheAudit(engine)
        episodic = EpisodicMemory(engine, recency_weight=settings.episode_recency_weight)
        episode_search = EpisodeSearch(
            engine,
            episodic,
            tenants,
            pool,
            ledger,
            fusion=fusion_settings(settings),
            min_score=settings.recall_min_score,
            recency_weight=settings.episode_recency_weight,
        )
        skills = SkillLibrary(documents, engine)
        lessons = LessonReview(engine, skills)
        tool_log = ToolLog(engine)
        corrections = CorrectionLog(engine)
        notebook = Notebook(
            documents,
            NotebookLimits(
                writes_per_thread_per_hour=settings.notebook_writes_per_thread_per_hour,
                writes_per_agent_per_hour=settings.notebook_writes_per_agent_per_hour,
            ),
        )
        session_cache = SessionCache(
            settings.redis_url,
            ttl_seconds=settings.session_cache_ttl_seconds,
            normalizer=CommandNormalizer(settings.session_cache_normalization),
            audit=audit,
            audit_fraction=settings.session_cache_audit_fraction,
            max_entries=settings.session_cache_max_entries,
        )
        return cls(
            settings=settings,
            engine=engine,
            llm=llm,
            conversation=conversation,
            documents=documents,
            notebook=notebook,
            recall=RecallMemory(
                RecallStore(
                    engine,
                    HnswSettings(
                        m=settings.recall_hnsw_m,
                        ef_construction=settings.recall_hnsw_ef_construction,
                        ef_search=settings.recall_hnsw_ef_search,
                    ),
                ),
                tenants,
                pool,
                ledger,
                top_k=settings.recall_top_k,
                min_score=settings.recall_min_score,
                fusion=fusion_settings(settings),
            ),
            turns=TurnLog(engine),
            ledger=ledger,
            tenants=tenants,
            switches=switches,
            knowledge=KnowledgeGraph(
                graph,
                EpisodeQueue(engine),
                switches,
                IngestionLog(engine),
                conversation,
                llm,
                ledger,
                search_limit=settings.graph_search_limit,
                # The graph embeds with the tenant's fenced model, like the recall store.
                current_model=tenants.current_embedding_model,
                query_model=tenants.query_embedding_model,
            ),
            library=DocumentLibrary(engine, chunk_chars=settings.document_chunk_chars),
            migration=EmbeddingMigration(
                engine, tenants, pool, ledger, requests_per_second=settings.migration_requests_per_second
            ),
            embedders=pool,
            session_cache=session_cache,
            cache_audit=audit,
            episodic=episodic,
            episode_search=episode_search,
            skills=skills,
            commands=CommandRunner(CommandPolicy.from_settings(settings)),
            tool_log=tool_log,
            corrections=corrections,
            retention=Retention(engine, scratch_root=Path(settings.tool_scratch_root)),
            episode_recorder=EpisodeRecorder(conversation, episodic, switches, llm, ledger, vectors=episode_search),
            codifier=Codifier(engine, session_cache, skills, notebook),
            lessons=lessons,
            reflector=Reflector(episodic, corrections, tool_log, llm, ledger, lessons),
            agents=AgentDefinitions(engine),
            agent_models=AgentModels(settings, llm),
            eraser=MemoryEraser(engine, graph, settings.redis_url, ArchiveDirectory(settings.archive_dir)),
        )

    async def close(self) -> None:
        await self.agent_models.close()
        await self.session_cache.close()
        await self.eraser.close()
        await self.knowledge.graph.close()
        await self.embedders.close()
        await self.engine.dispose()
