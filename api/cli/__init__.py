"""The `muster` command line (main.py; the script entry is `api.cli.main:main`) and what
its commands print or import: roster files, tokens, the demo's ids and tokens, the
OpenAPI document. It may import anything in api/; nothing in api/ imports it, but for
tests and bench scripts reading the demo's output.
"""
