"""Muster's HTTP API and command line: thin handlers over domain/ and db/."""
