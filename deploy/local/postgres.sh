#!/usr/bin/env bash
# Local throwaway PostgreSQL for development and tests.
#   deploy/local/postgres.sh start|stop|status|kill|restart [--port N] [--databases a,b,c]
# See deploy/local/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec uv run --frozen python -m meshkit_testing.devinfra postgres "$@"
