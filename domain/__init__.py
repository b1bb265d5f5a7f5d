"""Pure rules of Muster: no I/O, no framework, no clock reads (time is passed in)."""
