"""The pure domain: pact model, business calendars, durations, goals.

Must not import I/O libraries (SQLAlchemy, FastAPI, Typer, DuckDB, Ibis, YAML loaders, Rich)
nor `leadpact.clock`: `now` is always a parameter. An import-linter contract enforces this.
"""
