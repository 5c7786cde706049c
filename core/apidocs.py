"""The API's own documentation: Swagger UI served from this app (no CDN), and the one step that makes the
generated OpenAPI schema say what the app really does (its error bodies, which routes need no sign-in, the caps
every input gets, the open-data and Open311 files' shapes)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec
from litestar import Litestar, Request, Router
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from core.errors import EXCEPTION_HANDLERS
from core.inputs import INT_MAX, INT_MIN, ITEMS_CAP, TEXT_CAP, Input
from core.publishing.opendata import CONTENT_TYPES, DATASETS, OpenDataDocument

DOCS_PATH = "/schema"
ASSETS = f"{DOCS_PATH}/assets"  # under /schema: no sign-in, and the docs page's own security policy
PROBLEM = "Problem"

# What each refusal means here; every one of them answers with the same problem-details body (core.errors).
ERROR_STATUSES: dict[int, str] = {
    400: "请求格式不对：缺少字段、类型不符、或有未知字段",
    401: "需要登录：没有访问令牌，或令牌已失效",
    403: "无权执行此操作",
    404: "没有这个租户或对象（或本租户未启用该功能）",
    409: "与当前状态冲突",
    422: "输入不符合规则（errors[] 逐项指出字段）",
}
OTHER_ERRORS = "其他拒绝（已失效 410、过于频繁 429、请求过大 413 等），同样是 problem details"

PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    PROBLEM: {
        "type": "object",
        "description": "RFC 9457 problem details, as core.errors answers every refusal",
        "required": ["status", "title", "detail"],
        "properties": {
            "status": {"type": "integer", "description": "the HTTP status again"},
            "title": {"type": "string", "description": "the kind of refusal, in Chinese for the app's own"},
            "detail": {"type": "string", "description": "what was refused and why, in Chinese"},
            "type": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "each refused field: its code name and the message about it",
                "items": {"$ref": f"#/components/schemas/{PROBLEM}Field"},
            },
        },
    },
    f"{PROBLEM}Field": {
        "type": "object",
        "required": ["field", "message"],
        "properties": {
            "field": {"type": ["string", "null"], "description": "the field's code name, e.g. `title` or `invitees.orgs[0]`"},
            "message": {"type": ["string", "null"]},
            "source": {"type": ["string", "null"], "description": "where the field was sent: body, query, path, header"},
        },
    },
}


class _Documented:
    """A render plugin that serves the schema with `told`'s additions (made once, on the cached schema)."""

    public: Sequence[str]

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        told(request.app, openapi_schema, self.public)
        return super().render(request, openapi_schema)  # type: ignore[misc]


class DocumentedJson(_Documented, JsonRenderPlugin):
    def __init__(self, public: Sequence[str]) -> None:
        self.public = public
        super().__init__()


class DocumentedSwagger(_Documented, SwaggerRenderPlugin):
    """Swagger UI with its script, styles and icon from the `swagger-ui-bundle-v2` package, served by us."""

    def __init__(self, public: Sequence[str]) -> None:
        self.public = public
        super().__init__(
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
        )


def render_plugins(public: Sequence[str]) -> list[OpenAPIRenderPlugin]:
    """/schema/openapi.json and /schema/swagger; `public` are the path patterns the sign-in middleware skips."""
    return [DocumentedSwagger(public), DocumentedJson(public)]


def assets_router() -> Router:
    return create_static_files_router(path=ASSETS, directories=[swagger_ui_path], include_in_schema=False,
                                      opt={"exclude_from_auth": True})


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}}}


def _is_litestar_default(response: dict[str, Any]) -> bool:
    """Litestar's own 400 entry ("Validation Exception", a body the app never sends) is ours to replace."""
    return any(media.get("schema", {}).get("description") == "Validation Exception"
               for media in response.get("content", {}).values())


def _own_errors(handler: Any) -> bool:
    """A router that answers refusals in a format of its own (Open311's error list) documents them itself."""
    return handler.resolve_exception_handlers().get(Exception) is not EXCEPTION_HANDLERS[Exception]


def _open_data_schemas() -> dict[str, dict[str, Any]]:
    """Each open-data dataset's JSON document (`OpenData_results`…, its rows typed) and the rows' schemas."""
    types = [OpenDataDocument, *(dataset.row_type for dataset in DATASETS.values())]
    _, found = msgspec.json.schema_components(types, ref_template="#/components/schemas/OpenData{name}")
    components = {f"OpenData{name}": schema for name, schema in found.items()}
    for name, dataset in DATASETS.items():
        document = dict(components[f"OpenData{OpenDataDocument.__name__}"])
        document["properties"] = {**document["properties"], "items": {
            "type": "array", "items": {"$ref": f"#/components/schemas/OpenData{dataset.row_type.__name__}"}}}
        document["title"] = f"开放数据：{dataset.title}"
        components[f"OpenData_{name}"] = document
    return components


_OPEN_DATA = re.compile(r"/public/open-data/(\w+)\.(\w+)$")


def _type_open_data(path: str, operation: dict[str, Any]) -> None:
    """One handler serves a dataset in three formats; each path's 200 says its own."""
    found = _OPEN_DATA.search(path)
    if not found or found.group(1) not in DATASETS or found.group(2) not in CONTENT_TYPES:
        return
    name, fmt = found.groups()
    schema: dict[str, Any] = {
        "json": {"$ref": f"#/components/schemas/OpenData_{name}"},
        "csv": {"type": "string", "description": "UTF-8 (with BOM), a header row of the fields' codes"},
        "xlsx": {"type": "string", "format": "binary"},
    }[fmt]
    operation["responses"]["200"] = {"description": f"开放数据 {name}.{fmt}",
                                     "content": {CONTENT_TYPES[fmt]: {"schema": schema}}}


def _inputs() -> set[str]:
    found, todo = set(), list(Input.__subclasses__())
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


_TEXT_FORMATS = {None, "email", "uri"}  # a uuid, a date or a time is checked by its format, not by a length


def _caps(schema: dict[str, Any], outer: dict[str, Any] | None = None) -> None:
    """The caps `core.inputs` gives every field of an `Input` that its declaration leaves open (a text within
    TEXT_CAP, a list or mapping within ITEMS_CAP, a whole number within the Integer column's range); a cap
    declared beside a `oneOf` (`Annotated[str, cap(200)] | None`) already holds for its branches."""
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        _caps(branch, schema)
    declared = set(schema) | set(outer or {})
    kind = schema.get("type")
    if kind == "string" and schema.get("format") in _TEXT_FORMATS and not {"enum", "maxLength"} & declared:
        schema["maxLength"] = TEXT_CAP
    elif kind == "integer" and not {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} & declared:
        schema.update(minimum=INT_MIN, maximum=INT_MAX)
    elif kind == "array":
        if "maxItems" not in declared:
            schema["maxItems"] = ITEMS_CAP
        if isinstance(schema.get("items"), dict):
            _caps(schema["items"])
    elif (kind == "object" and isinstance(schema.get("additionalProperties"), dict) and "properties" not in schema
          and "maxProperties" not in declared):
        schema["maxProperties"] = ITEMS_CAP


def _cap_inputs(components: dict[str, Any]) -> None:
    for name in _inputs() & set(components):
        for field in components[name].get("properties", {}).values():
            _caps(field)


XML = "text/xml"


def _type_xml(path: str, operation: dict[str, Any]) -> None:
    """Open311's `.xml` paths answer in XML, its `{…_file}` ones (`42.json`, `42.xml`) in either, errors too."""
    either = bool(re.search(r"\{\w+_file\}$", path))
    if not (path.endswith(".xml") or either):
        return
    for response in operation.get("responses", {}).values():
        content = response.get("content", {})
        if "application/json" in content:
            xml = {"schema": {"type": "string", "description": "the same document in Open311's XML form"}}
            response["content"] = {**content, XML: xml} if either else {XML: xml}


def told(app: Litestar, schema: dict[str, Any], public_patterns: Sequence[str]) -> dict[str, Any]:
    """`schema` (the app's generated one, changed in place, once) with the truth added: problem details for
    every refusal on every route, no security requirement where no sign-in is needed (a handler's
    `exclude_from_auth`, or a path the sign-in middleware skips), the caps `core.inputs` enforces on every
    input, and the bodies of the routes whose path names a format (open data, Open311's XML)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if PROBLEM in components:
        return schema
    public = [re.compile(pattern) for pattern in public_patterns]
    paths = schema.get("paths", {})
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in paths:
            continue
        item = paths[route.path_format]
        for method, (handler, _) in route.route_handler_map.items():
            operation = item.get(method.lower())
            if operation is None:
                continue
            if handler.opt.get("exclude_from_auth") or any(p.search(route.path_format) for p in public):
                operation["security"] = []
            _type_open_data(route.path_format, operation)
            _type_xml(route.path_format, operation)
            if _own_errors(handler):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                existing = responses.get(str(status))
                if existing is None or _is_litestar_default(existing):
                    responses[str(status)] = _problem_response(description)
            responses.setdefault("default", _problem_response(OTHER_ERRORS))
    _cap_inputs(components)
    components.update(_open_data_schemas())
    components.update(PROBLEM_SCHEMAS)  # last: its presence marks the schema as told
    return schema
