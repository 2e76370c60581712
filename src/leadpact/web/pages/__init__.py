"""HTML routers: server-rendered pages over the same service calls as the JSON routes."""
