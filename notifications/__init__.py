"""Getting alerts to phones: the outbox dispatcher and one sender per channel.

Queueing (queueing.py) runs inside the request's transaction: the handler that changes
an event writes its outbox rows (or, for a district, an alert wave) in that same
transaction, so an alert is queued exactly when its change commits. Sending never
does: the dispatcher (dispatcher.py), a background task of each API process (and of
`muster worker`), claims committed rows and hands them to the senders, outside any
request.
"""
