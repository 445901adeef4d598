"""JSON Schemas generated from the payload models, and the compatibility rule they are held to.

Compatible change: adding an optional field. Incompatible: removing a field or an event
type, changing a field's type, or adding a required field. Those need a new version.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rapport_shared.contracts.registry import REGISTRY


def generate() -> dict[str, dict[str, Any]]:
    return {event_type: model.model_json_schema(mode="serialization") for event_type, model in sorted(REGISTRY.items())}


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, schema in generate().items():
        path = directory / f"{event_type}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def load(directory: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def _signature(prop: dict[str, Any]) -> Any:
    """What a field's type is, ignoring descriptions, titles and defaults."""
    keep = ("type", "$ref", "format", "items", "anyOf", "oneOf", "enum", "const", "additionalProperties")
    out = {}
    for key in keep:
        if key in prop:
            value = prop[key]
            if isinstance(value, dict):
                value = _signature(value)
            elif isinstance(value, list):
                value = [(_signature(v) if isinstance(v, dict) else v) for v in value]
            out[key] = value
    return out


def _compare_object(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, prop in old_props.items():
        if name not in new_props:
            problems.append(f"{where}: field {name!r} was removed")
        elif _signature(prop) != _signature(new_props[name]):
            problems.append(f"{where}: field {name!r} changed type")
    for name in set(new.get("required", ())) - set(old_props):
        problems.append(f"{where}: new field {name!r} is required")
    return problems


def incompatibilities(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[str]:
    """Every breaking difference between committed schemas (``old``) and the models (``new``)."""
    problems: list[str] = []
    for event_type, old_schema in old.items():
        if event_type not in new:
            problems.append(f"{event_type}: event type was removed")
            continue
        new_schema = new[event_type]
        problems += _compare_object(event_type, old_schema, new_schema)
        old_defs, new_defs = old_schema.get("$defs", {}), new_schema.get("$defs", {})
        for name, definition in old_defs.items():
            if name in new_defs:
                problems += _compare_object(f"{event_type}#{name}", definition, new_defs[name])
    return problems
