"""Routes under /events."""
