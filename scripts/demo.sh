#!/usr/bin/env bash
# `make demo`: demo inputs -> dbt build (models + gate) -> emulator -> pilot download -> calibrated
# rebuild -> report. Everything runs locally; the emulator listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DBT_PROFILES_DIR="$PWD" DO_NOT_TRACK=1 DBT_SEND_ANONYMOUS_USAGE_STATS=False
export TICKWINDOWS_DB="${TICKWINDOWS_DB:-warehouse/tickwindows.duckdb}"
PORT="${EMULATOR_PORT:-8765}"
PILOT_EVENTS="${PILOT_EVENTS:-20}"
# The emulator accepts any key unless told otherwise; this one only ever goes to loopback.
export POLYGON_API_KEY="${DEMO_API_KEY:-demo-key-not-secret}"

step() { printf '\n\033[1;36m== %s\033[0m\n' "$*"; }

step "1/6 demo inputs (data/events, data/daily)"
if [ -d data/events ] && [ -n "$(ls -A data/events 2>/dev/null)" ]; then
    echo "data/events already exists: reusing it (delete data/ to regenerate)"
else
    $BIN/tickwindows demo-data --out data
fi

step "2/6 dbt build: models, data tests and the GO/NO-GO gate (the default selector, selectors.yml: no unit tests; make test runs them)"
mkdir -p "$(dirname "$TICKWINDOWS_DB")"
gate_ok=1
$BIN/dbt build || gate_ok=0

step "3/6 emulator on 127.0.0.1:$PORT"
mkdir -p logs
$BIN/tickwindows emulator --port "$PORT" --seed 7 --latency-ms 2 > logs/emulator.log 2>&1 &
EMU_PID=$!
trap 'kill $EMU_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    if $BIN/python -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $PORT)))"; then break; fi
    sleep 0.1
done

step "4/6 pilot: $PILOT_EVENTS manifest windows from the emulator, stratified by session and liquidity"
$BIN/tickwindows pilot --events "$PILOT_EVENTS" --base-url "http://127.0.0.1:$PORT"

step "5/6 dbt build again: estimates now calibrated by the pilot, gate re-evaluated"
gate_ok=1
$BIN/dbt build || gate_ok=0
$BIN/tickwindows status

step "6/6 dry-run / gate report"
$BIN/tickwindows report
[ "$gate_ok" = 1 ] || { echo "The gate is NO-GO: see the report above." >&2; exit 1; }
