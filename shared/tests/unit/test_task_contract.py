"""TaskCreatedV1 names its subject (optional fields: events written before them still read, same version)."""
import json
from pathlib import Path
from uuid import uuid4

import jsonschema

from rapport_shared.contracts.task import TaskCreatedV1

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "rapport.task.created.v1.json").read_text())
OLD = {"task_id": str(uuid4()), "customer_id": str(uuid4()), "kind": "call", "reason": "30 days overdue"}


def test_an_event_without_a_subject_still_reads_and_has_none():
    jsonschema.validate(OLD, SCHEMA)
    task = TaskCreatedV1.model_validate(OLD)
    assert (task.subject_kind, task.subject_id) == (None, None)
    assert TaskCreatedV1.event_type == "rapport.task.created.v1"


def test_a_subject_travels_and_matches_the_committed_schema():
    message_id = uuid4()
    task = TaskCreatedV1.model_validate(OLD | {"kind": "uncertain_send", "subject_kind": "message",
                                               "subject_id": str(message_id)})
    data = json.loads(task.model_dump_json())
    jsonschema.validate(data, SCHEMA)
    assert (data["subject_kind"], data["subject_id"]) == ("message", str(message_id))
    assert TaskCreatedV1.model_validate(data).subject_id == message_id


def test_a_subject_id_that_is_not_a_uuid_is_refused():
    try:
        TaskCreatedV1.model_validate(OLD | {"subject_kind": "plan", "subject_id": "plan-7"})
    except ValueError as error:
        assert "subject_id" in str(error)
    else:
        raise AssertionError("a non-UUID subject_id was accepted")
