-- The warehouse role of branch (pull-request) deployments: reveries_branch.
-- Run once in the warehouse database as its owner (psql -d <warehouse> -f branch_role_warehouse.sql),
-- then give the role a password (`\password reveries_branch` in psql; never in a file) and store its
-- DSN in the branch secret (terraform output branch_warehouse_dsn_secret_arn).
--
-- A branch deployment writes only to its own schema (pr_<number>, reveries_pipeline/environment.py),
-- which it creates and so owns. The role is granted nothing on production's tables: it can't read,
-- change or drop them. Running this again changes nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reveries_branch') THEN
        CREATE ROLE reveries_branch LOGIN;
    END IF;
END
$$;

ALTER ROLE reveries_branch NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 20;

-- CREATE on the database lets it create (and own) its branch schemas; nothing else.
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, CREATE ON DATABASE %I TO reveries_branch', current_database());
END
$$;
