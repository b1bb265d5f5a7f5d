-- Wrong sign-in codes are counted per phone and per client address over time, not per
-- code: a stranger's guesses no longer use up the tries of the code a member received.
create table wrong_codes (
    phone           text not null,
    client_address  text not null,
    tried_at        timestamptz not null
);
create index wrong_codes_phone on wrong_codes (phone, tried_at desc);
create index wrong_codes_address on wrong_codes (client_address, tried_at desc);

alter table auth_codes drop column attempts;
