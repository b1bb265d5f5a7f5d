"""Getting alerts to phones: the outbox dispatcher and one sender per channel.

Nothing here touches request handling: handlers write outbox rows in the
transaction that changed the event; the dispatcher sends them.
"""
