#!/usr/bin/env python3
"""Benchmark secure_api against Odoo's own JSON-RPC on the same server.

The one command of the benchmark package tools/bench/ (``--help`` lists the
options and sections; ``--scale N`` runs the scale benchmark):

    python3 tools/benchmark.py --odoo-bin odoo-bin --db secure_api_bench
"""

import sys

from bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
