-- Open findings per check. Every evaluation counts them (a control fails while one of its checks
-- has an open finding); without this index the count visits every open finding of the workspace.
create index findings_open_by_check_idx on findings (workspace_id, check_id) where status = 'open';
