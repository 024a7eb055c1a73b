#!/usr/bin/env bash
# Build a 1M-product index (folded filter fields, on mimalloc, encoding from the bench's cache) inside a memory
# cgroup (v1) of LIMIT_GB, and write what it used to bench/results/ingest-1m-memory-limit.md. Needs root and a
# cgroup v1 memory controller; fill data/bench/vectors.sqlite first (`vitrina bench --size 1m`).
#   sudo bash bench/ingest_memory_limit.sh [LIMIT_GB=6] [SIZE=1000000]
set -euo pipefail
LIMIT_GB=${1:-6}
SIZE=${2:-1000000}
CG=/sys/fs/cgroup/memory/vitrina-${LIMIT_GB}g
[ -d /sys/fs/cgroup/memory ] || { echo "no cgroup v1 memory controller here"; exit 2; }
mkdir -p "$CG"
echo $((LIMIT_GB * 1024 * 1024 * 1024)) > "$CG/memory.limit_in_bytes"
work=data/tmp-memory-limit
rm -rf "$work" && mkdir -p "$work"
preload=$(.venv/bin/python -c "from vitrina.allocator import mimalloc_library as m; print(m() or '')")
figures=$(sh -c "echo \$\$ > $CG/cgroup.procs; exec env LD_PRELOAD=$preload .venv/bin/python bench/ingest_layout.py \
  --child folded --size $SIZE --work $work" | tail -1)
used=$(( $(cat "$CG/memory.max_usage_in_bytes") / 1048576 ))
rm -rf "$work"
out=bench/results/ingest-1m-memory-limit.md
{
  echo "# Index build of $SIZE products inside a ${LIMIT_GB} GB memory limit"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores. \`sudo bash bench/ingest_memory_limit.sh $LIMIT_GB $SIZE\`: a cgroup (v1) with"
  echo "memory.limit_in_bytes = ${LIMIT_GB} GB holds the build (page cache of the index files counts toward it and is"
  echo "reclaimed at the limit; anonymous memory cannot be, there is no swap). It completed. The cgroup's peak"
  echo "usage: ${used} MB. The build's own figures (RSS sampled from a child; anonymous = RssAnon):"
  echo
  echo '```json'
  echo "$figures"
  echo '```'
} > "$out"
cat "$out"
