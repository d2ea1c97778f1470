-- Scale (issue 15): a keyset index for paging the tenant list
-- (ListTenantsPage) in (created_at, id) order. The queries' comments
-- (queries/tenant.sql) quote the EXPLAIN output it changes.
CREATE INDEX tenants_created_at_id_idx ON tenants (created_at, id);
