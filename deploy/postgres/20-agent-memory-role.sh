#!/bin/sh
# Runs once, when the memory database's volume is first initialised (as the superuser).
# The worker connects as AGENT_DB_USER: it owns the memory schema (it runs the migrations
# and builds the per-model vector indexes) but is no superuser, cannot create databases or
# roles, read or write server files, run programs through COPY, or reach other databases.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname agent_memory \
  -v role="$AGENT_DB_USER" -v password="$AGENT_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER DATABASE agent_memory OWNER TO :"role";
REVOKE ALL ON DATABASE agent_memory FROM PUBLIC;
GRANT CONNECT ON DATABASE agent_memory TO :"role";
ALTER SCHEMA public OWNER TO :"role";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
