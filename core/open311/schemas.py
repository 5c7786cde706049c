"""The shapes of GeoReport v2, field for field as the spec names them (JSON; `xml.py` writes the same as XML)."""

from __future__ import annotations

import msgspec


class Service(msgspec.Struct):
    """A service: one concern category of the tenant (the core's defaults and the tenant's own)."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class AttributeValue(msgspec.Struct):
    key: str
    name: str


class Attribute(msgspec.Struct):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(msgspec.Struct):
    """No service asks for extra fields (`metadata` is false), so `attributes` is always empty."""

    service_code: str
    attributes: list[Attribute]


class ServiceRequestForm(msgspec.Struct):
    """POST requests: application/x-www-form-urlencoded, as the spec says. Empty means not given.

    Required: `api_key`, `service_code`, and a location: `lat` and `long`, or `address_string`, or
    `address_id`. `attribute[code]=value` pairs are accepted and ignored (no service has metadata);
    `email`, `device_id` and `account_id` are accepted and not stored.
    """

    api_key: str | None = None
    jurisdiction_id: str | None = None
    service_code: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = None


class ServiceRequestCreated(msgspec.Struct):
    service_request_id: str
    service_notice: str | None
    account_id: str | None


class ServiceRequest(msgspec.Struct):
    """A concern as Open311 shows it to anyone: never the resident's name, phone or e-mail."""

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Error(msgspec.Struct):
    code: int
    description: str


class Endpoint(msgspec.Struct):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Discovery(msgspec.Struct):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]
