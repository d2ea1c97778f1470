-- Scale (issue 15). The plans these indexes change are quoted in
-- dev/README.md ("Scale"), from BenchmarkScale (10,000 tenants, 5 million audit rows).
--
-- Keyset pages of the tenant list (ListTenantsPage) in (created_at, id)
-- order: without it every page sorts every tenant.
CREATE INDEX tenants_created_at_id_idx ON tenants (created_at, id);

-- The audit route's request and conversation filters (auditsql): without
-- them a page filtered on either scans the log from its newest row.
CREATE INDEX audit_log_request_id_idx ON audit_log (request_id, id);
CREATE INDEX audit_log_conversation_id_idx ON audit_log (conversation_id, id);
