"""The benchmark of secure_api, one package (stdlib only).

``tools/benchmark.py`` is its one command; ``tools/loadtest.py`` uses its
plumbing. Layout:

- ``common``: HTTP and JSON-RPC clients, tokens, the threaded ``Workload``;
- ``servers``: Odoo processes on loopback, their addons path, databases;
- ``fixtures``: what a run configures (user, seeded partners, APIs, client
  app), temporary system parameters, the cleanup between sections;
- ``runner``: ``Bench`` (measure, pair, group, targets), the ``Context`` a
  section gets, the report;
- one module per section, named by what it measures: ``core`` (the simple
  API's rows, made of ``crud``, ``sync``, ``auth``, ``stats`` and the
  outbox pair of ``webhooks``, over the client state of ``simple``),
  ``limit``, ``realistic``, ``hostile``, ``traffic``, ``webhooks``,
  ``dbfilter``, ``memory``; ``scale`` and ``scale_report`` (``--scale N``);
- ``sections``: the ``SECTIONS`` table, name -> ``run(ctx)``;
- ``cli``: the command line.

A new section is one module with a ``run(ctx)`` function and one entry in
``sections.SECTIONS``.
"""
