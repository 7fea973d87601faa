#!/usr/bin/env bash
# Started detached by the control-plane harness: when the process that started the control plane dies
# (Ctrl-C, a crashed test run, SIGKILL), stop exactly the processes it recorded and remove its folder.
owner=$1 dir=$2
tail --pid="$owner" -f /dev/null 2>/dev/null
[ -d "$dir" ] || exit 0
pids=$(cat "$dir/pids" 2>/dev/null)
[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
for _ in $(seq 50); do
  alive=0
  for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.2
done
[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
rm -rf "$dir"
