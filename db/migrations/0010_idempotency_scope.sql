-- An Idempotency-Key belongs to its caller and its request (method, path), and is kept
-- for 24 h from the request's time (domain/idempotency.py): expired keys are ignored,
-- and purged whenever a key is stored. Keys stored before this were all for starting an
-- event, whose answer names the school: their path is rebuilt from it.
alter table idempotency_keys
    add column method text,
    add column path   text;
update idempotency_keys
   set method = 'POST', path = '/v1/schools/' || (response_body ->> 'school_id') || '/events';
delete from idempotency_keys where path is null;
alter table idempotency_keys
    alter column method set not null,
    alter column path set not null,
    add check (method ~ '^[A-Z]{1,10}$'),
    add check (length(path) between 1 and 2000),
    alter column created_at drop default,
    drop constraint idempotency_keys_pkey,
    add primary key (user_id, method, path, key);
create index idempotency_keys_created on idempotency_keys (created_at);
