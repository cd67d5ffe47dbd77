"""Generate the published event schemas from the pydantic contracts: events/schemas/ and the template's registry.

`python -m tools.gen_schemas` writes them; `--check` exits 1 when the checked-in files differ (drift).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.contracts import ALL_EVENTS
from shared.events import EventDetail

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "events" / "schemas"
TEMPLATE = ROOT / "template.yaml"
BEGIN = "  # BEGIN GENERATED EVENT SCHEMAS (python -m tools.gen_schemas)"
END = "  # END GENERATED EVENT SCHEMAS"


def _draft4(node: Any) -> Any:
    """Pydantic emits draft 2020-12; EventBridge's registry takes draft 4 (`definitions`, no `const`)."""
    if isinstance(node, dict):
        out = {("definitions" if k == "$defs" else k): _draft4(v) for k, v in node.items()}
        if "const" in out:
            out["enum"] = [out.pop("const")]
        if isinstance(out.get("$ref"), str):
            out["$ref"] = out["$ref"].replace("#/$defs/", "#/definitions/")
        return out
    if isinstance(node, list):
        return [_draft4(v) for v in node]
    return node


def event_schema(model: type[EventDetail]) -> dict[str, Any]:
    """The whole EventBridge event (envelope + typed detail), as a consumer receives it."""
    detail = _draft4(model.model_json_schema(ref_template="#/definitions/{model}"))
    definitions = detail.pop("definitions", {})
    definitions[model.__name__] = detail
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": model.DETAIL_TYPE,
        "description": (model.__doc__ or f"{model.DETAIL_TYPE} event.").strip().split("\n")[0],
        "x-prm-source": model.SOURCE,
        "x-prm-detail-type": model.DETAIL_TYPE,
        "x-prm-version": model.VERSION,
        "type": "object",
        "required": ["id", "detail-type", "source", "time", "detail"],
        "properties": {
            "version": {"type": "string"},
            "id": {"type": "string"},
            "detail-type": {"type": "string", "enum": [model.DETAIL_TYPE]},
            "source": {"type": "string", "enum": [model.SOURCE]},
            "account": {"type": "string"},
            "time": {"type": "string", "format": "date-time"},
            "region": {"type": "string"},
            "resources": {"type": "array", "items": {"type": "string"}},
            "detail": {"$ref": f"#/definitions/{model.__name__}"},
        },
        "definitions": definitions,
    }


def schema_path(model: type[EventDetail]) -> Path:
    return SCHEMA_DIR / model.SOURCE / f"{model.DETAIL_TYPE}.v{model.VERSION}.json"


def schema_files() -> dict[Path, str]:
    return {schema_path(m): json.dumps(event_schema(m), indent=2, sort_keys=True) + "\n" for m in ALL_EVENTS}


def template_block() -> str:
    lines = [BEGIN]
    for model in ALL_EVENTS:
        content = json.dumps(event_schema(model), sort_keys=True, separators=(",", ":"))
        lines += [
            f"  Schema{model.DETAIL_TYPE}V{model.VERSION}:",
            "    Type: AWS::EventSchemas::Schema",
            "    Properties:",
            "      RegistryName: !GetAtt PrmEventSchemaRegistry.RegistryName",
            f"      SchemaName: {model.SOURCE}@{model.DETAIL_TYPE}.v{model.VERSION}",
            f"      Description: {json.dumps(event_schema(model)['description'])}",
            "      Type: JSONSchemaDraft4",
            f"      Content: '{content.replace(chr(39), chr(39) * 2)}'",
        ]
    lines.append(END)
    return "\n".join(lines)


def rendered_template() -> str:
    text = TEMPLATE.read_text()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + template_block() + text[stop:]


def drift() -> list[str]:
    """Paths whose checked-in content differs from what the contracts generate."""
    stale = [str(p.relative_to(ROOT)) for p, c in schema_files().items() if not p.exists() or p.read_text() != c]
    known = set(schema_files())
    stale += [str(p.relative_to(ROOT)) + " (no contract)" for p in SCHEMA_DIR.rglob("*.json") if p not in known]
    if TEMPLATE.read_text() != rendered_template():
        stale.append("template.yaml")
    return stale


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = drift()
        for name in stale:
            print(f"out of date: {name} (run: make schemas)")
        return 1 if stale else 0
    for path, content in schema_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    TEMPLATE.write_text(rendered_template())
    print(f"wrote {len(ALL_EVENTS)} schemas and the template's schema registry block")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
