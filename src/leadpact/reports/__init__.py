"""Presentation: the agreement document (structure, translations, writers) and report rendering.

Reports turn what `core` and `services` computed into something a person reads; they never
decide anything. They may import `core`, `services`' results and `errors`; never `cli` or `web`.
"""
