"""Use-cases shared by the CLI and the web app: load, decide in `core`, persist.

A service owns its transaction (it opens it on the workspace's engine, commits or rolls back)
and reads the time from the workspace's clock, never from the wall. Services import `store`,
`analytics`, `core`, `settings`, `clock` and `pact_file`; never `cli` or `web`.
"""
