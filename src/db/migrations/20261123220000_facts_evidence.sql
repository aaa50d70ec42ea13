-- Facts keep the id of the ledger entry that preserves them: an event's raw payload and an
-- account snapshot are evidence in their own right.
alter table events add column evidence_id text;
alter table identity_observations add column evidence_id text;
