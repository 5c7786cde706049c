"""Open311 GeoReport v2: residents' concerns through the standard that existing civic apps already speak.

Each tenant is one jurisdiction at `/open311/v2/{slug}/`; its concern categories are the services, a
concern is a service request (its reference is the `service_request_id`), and client apps registered for
the tenant file concerns with their `api_key` (`yishi open311 keys create TENANT_SLUG APP_NAME`).
"""
