#!/usr/bin/env bash
# One database and one login role per egov-mesh service (database-per-service).
#
# Run by the postgres image's entrypoint from /docker-entrypoint-initdb.d/, as the
# superuser, only when the data volume is empty (first start). The password of role <name>
# comes from <NAME>_DB_PASSWORD (e.g. IDENTITY_DB_PASSWORD), passed in by
# deploy/docker-compose.yml from deploy/.env. Re-running it is harmless: roles and
# databases that exist are kept and the role's password is set again.
#
# To change a password later: update deploy/.env, then
#   docker compose exec postgres psql -U postgres -c "ALTER ROLE identity PASSWORD '...'"
set -euo pipefail

SERVICES=(gateway identity registry licensing payments notary)

superuser="${POSTGRES_USER:-postgres}"
maintenance_db="${POSTGRES_DB:-$superuser}"

for name in "${SERVICES[@]}"; do
    var="${name^^}_DB_PASSWORD"
    password="${!var:-}"
    if [[ -z "$password" ]]; then
        echo "create-databases.sh: $var is not set (see deploy/.env.example)" >&2
        exit 1
    fi
    echo "create-databases.sh: role and database '$name'"
    # Values go in as psql variables and are quoted by format(%I/%L): no SQL injection
    # through a password, whatever characters it holds.
    psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$superuser" --dbname "$maintenance_db" \
        --set=name="$name" --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'name')
\gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'name', :'password')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'name')
\gexec
-- only the owning service (and the superuser) may connect to a service's database
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name')
\gexec
SELECT format('GRANT ALL ON DATABASE %I TO %I', :'name', :'name')
\gexec
SQL
done
