"""Analytics: every report metric written once as an Ibis expression, run on any engine.

Read-only over the stored data (the store's SQLite or PostgreSQL database, or a Parquet
export for DuckDB and Spark). Imports `core` and `errors` only from the project; never the
store's SQLAlchemy tables, the services or the edges.

    connection       open_analytics: an engine over a workspace's data
    calendar_table   business calendars as a joinable lookup table
    periods          report buckets and calendar periods as a day table
    conditions       the pact's conditions compiled to Ibis
    frames           the base relations: tables cut at as_of, one row of facts per lead
    stats            nearest-rank distributions every engine computes alike
    funnel, sla_metrics, revenue, quality   the metric expressions
    metrics          run every query of a report, as sorted records
    sections         roll the records up into the report's sections (with rollup,
                     goals_section and commitments_section)
"""
