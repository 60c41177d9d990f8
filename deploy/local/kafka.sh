#!/usr/bin/env bash
# Local Apache Kafka 4.3.1 (KRaft, single node) for development and tests.
#   deploy/local/kafka.sh start|stop|status|kill|restart [--port N] [--controller-port N]
# See deploy/local/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec uv run --frozen python -m meshkit_testing.devinfra kafka "$@"
