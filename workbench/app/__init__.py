"""The application layer: what the screens and the CLI ask, as named, typed functions (no Qt).

Three kinds of operation (:mod:`workbench.app.ops`), chosen by a decorator on the function, never by
the caller:

- a **planning query** ``fn(session, ...)`` answers on the planning session (planner process);
- a **cache query** ``fn(engine, ...)`` reads the cache (reader process);
- a **command** ``fn(engine, ...)`` changes the cache (writer process, the single writer) and
  returns an :class:`~workbench.app.ops.Outcome`: its value and the :class:`~workbench.app.ops.Changes`
  it made, which the window broadcasts to every screen.

One runner (:mod:`workbench.app.runner`) places each in its process (GUI) or runs it inline (CLI,
tests). Importing this package loads neither Qt nor pandas: heavy imports happen inside functions.
"""
