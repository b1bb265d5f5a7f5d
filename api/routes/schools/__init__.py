"""Routes under /schools."""
