"""The web edge: FastAPI app, pages and their JSON twins, the API and webhooks (thin).

Routes parse input, check who is asking (`security`, `deps`), call a service and present the
result; they never import the store. Docs: docs/web.md (pages, auth, roles, webhook signing)
and docs/api.md (the API; the OpenAPI schema is served at /openapi.json).
"""
