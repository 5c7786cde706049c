"""GeoReport v2 XML: schemaless, no namespace, UTF-8 with the XML declaration, as the spec asks.

The JSON of the API is the Spark convention's mapping of this XML, so one walk over the same data serves
both: a list becomes a container element holding one element per item, named as the spec names them.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import msgspec

# The element each item of a list is wrapped in, by the list's own element name.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: Element, value: Any) -> None:
    if value is None:
        return  # an empty element, as in the spec's examples
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(SubElement(element, ITEM_NAMES[element.tag]), item)
    else:
        element.text = _text(value)


def render(root: str, data: Any) -> bytes:
    """`data` (structs, dicts, lists) as a GeoReport XML document whose root element is `root`."""
    element = Element(root)
    _fill(element, msgspec.to_builtins(data))
    return DECLARATION + tostring(element, encoding="unicode").encode()
