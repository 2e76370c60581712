"""JSON routers under /api: the API and the JSON twin of every page."""
