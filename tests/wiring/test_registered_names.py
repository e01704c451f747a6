"""Workflow, activity, update, query and signal names are what recorded histories and running
clients call: a move or a rename of a class must never change them."""

from __future__ import annotations

import json
from pathlib import Path

import temporalio.activity
import temporalio.workflow

import contract.names as names
from activities.registry import all_activities
from workflows.registry import WORKFLOWS

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))


class _AnyRuntime:
    """Activity classes only keep what they are given; nothing is called while naming them."""

    def __getattr__(self, name):
        return self


def _recorded(event_key: str, field: str) -> set[str]:
    found = set()
    for path in HISTORIES:
        for event in json.loads(path.read_text())["events"]:
            attributes = event.get(event_key)
            if attributes:
                found.add(attributes[field]["name"])
    return found


def test_every_recorded_workflow_type_is_registered_under_its_contract_name():
    registered = {temporalio.workflow._Definition.from_class(w).name for w in WORKFLOWS}
    contract = {value for key, value in vars(names).items() if key.endswith("_WORKFLOW")}
    assert registered == contract
    assert _recorded("workflowExecutionStartedEventAttributes", "workflowType") <= registered


def test_every_recorded_activity_type_is_registered():
    registered = {temporalio.activity._Definition.must_from_callable(fn).name for fn in all_activities(_AnyRuntime())}
    recorded = _recorded("activityTaskScheduledEventAttributes", "activityType")
    assert recorded and recorded <= registered


def test_updates_queries_and_signals_keep_their_contract_names():
    by_name = {temporalio.workflow._Definition.from_class(w).name: temporalio.workflow._Definition.from_class(w) for w in WORKFLOWS}
    conversation = by_name[names.CONVERSATION_WORKFLOW]
    assert {names.SEND_MESSAGE_UPDATE, names.CORRECT_UPDATE} == set(conversation.updates)
    assert {names.LAST_TURN_QUERY, names.TURN_PROGRESS_QUERY} == set(conversation.queries)
    migration = by_name[names.EMBEDDING_MIGRATION_WORKFLOW]
    assert {names.PAUSE_SIGNAL, names.RESUME_SIGNAL, names.CANCEL_SIGNAL} == set(migration.signals)
    assert names.PROGRESS_QUERY in migration.queries
    assert names.PROGRESS_QUERY in by_name[names.DOCUMENT_INGESTION_WORKFLOW].queries
    assert names.PROGRESS_QUERY in by_name[names.ARCHIVE_EXPORT_WORKFLOW].queries
    assert names.PROGRESS_QUERY in by_name[names.ARCHIVE_IMPORT_WORKFLOW].queries
