-- The totesys (source) role of branch (pull-request) deployments: reveries_branch, read-only.
-- Run once in the totesys database as its owner (psql -d <totesys> -f branch_role_totesys.sql),
-- then give the role a password (`\password reveries_branch` in psql; never in a file) and store its
-- DSN in the branch secret (terraform output branch_totesys_dsn_secret_arn).
--
-- Branch deployments capture in poll mode: SELECT on the source tables and nothing else (no
-- REPLICATION, so they can't take a logical slot from production). Every transaction of the role in
-- this database is read-only. Running this again changes nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reveries_branch') THEN
        CREATE ROLE reveries_branch LOGIN;
    END IF;
END
$$;

ALTER ROLE reveries_branch NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 20;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO reveries_branch', current_database());
    EXECUTE format('ALTER ROLE reveries_branch IN DATABASE %I SET default_transaction_read_only = on',
                   current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO reveries_branch;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO reveries_branch;
