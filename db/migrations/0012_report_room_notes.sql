-- A kept timing record names each room's note: the note of the room's current report (the
-- newest observation, then the latest arrival, then the larger client_id, as
-- domain/checkins.py orders them). Records kept before this lack it; each room that has a
-- note gets it from the check-ins, so that an old drill's report shows what rooms wrote.
update event_reports r
   set record = jsonb_set(r.record, '{rooms}', (
       select jsonb_agg(case when current.note is null then room
                             else room || jsonb_build_object('note', current.note) end
                        order by position)
         from jsonb_array_elements(r.record -> 'rooms') with ordinality as e (room, position)
         left join lateral (
             select c.note from checkins c
              where c.event_id = r.event_id and c.room_id = (room ->> 'room_id')::uuid
              order by c.observed_at desc, c.received_at desc, c.client_id desc
              limit 1) current on true))
 where jsonb_array_length(r.record -> 'rooms') > 0;
