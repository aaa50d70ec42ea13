-- An evidence row (canonical envelope and content) is stored uncompressed up to 8 KB: most rows
-- are 1–4 KB, and compressing each one as it is appended, then decompressing it for every
-- verification, cost more CPU time than the disk it saves. Larger payloads are still compressed,
-- with lz4 where the server has it (faster than the default pglz both ways).
alter table evidence_items set (toast_tuple_target = 8160);

do $$
begin
  if exists (
    select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any (enumvals)
  ) then
    alter table evidence_items
      alter column content set compression lz4,
      alter column envelope set compression lz4;
  end if;
end
$$;
