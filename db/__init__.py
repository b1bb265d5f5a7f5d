"""PostgreSQL: the pool, migrations, the embedded server and every query, by name.

Nothing above db/ sees asyncpg errors; they become domain errors here.
"""
