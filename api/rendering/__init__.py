"""Reports rendered for people: a drill's timing record as a printable HTML page and as
terminal text or CSV. Pure functions of a record; they may import domain and the use
cases' record types, never litestar, routes or the database.
"""
