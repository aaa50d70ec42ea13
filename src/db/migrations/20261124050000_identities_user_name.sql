-- Accounts by user name. An ingest resolves the accounts a batch names by system id, user name or
-- email in one statement; without this index the user-name branch reads every account of the
-- workspace, so each batch cost more as the workspace grew.
create index identities_user_name_idx on identities (workspace_id, system, user_name);
