# Sourced by the benchmarks that need a busy node: `busy_netns NS PAIRS` creates network namespace NS
# holding a node NIC eth3 (10.20.41.12/24, default route via 10.20.41.1) and PAIRS pod veth pairs
# (cali<i>/veth<i>, one /32 each), about 2 x PAIRS + 3 interfaces, and prints their count.
# The caller deletes NS.

busy_netns() {
  local ns=$1 pairs=$2 batch
  ip netns add "$ns"
  # One batch file: creating links one `ip` process at a time would dominate the setup time.
  batch=$(mktemp)
  {
    echo "link set lo up"
    echo "link add eth3 type veth peer name eth3-peer"
    echo "addr add 10.20.41.12/24 dev eth3"
    echo "link set eth3 up"
    echo "link set eth3-peer up"
    for i in $(seq 1 "$pairs"); do
      echo "link add cali$i type veth peer name veth$i"
      echo "addr add 192.168.$((i / 250)).$((i % 250 + 1))/32 dev cali$i"
      echo "link set cali$i up"
      echo "link set veth$i up"
    done
    echo "route add default via 10.20.41.1 dev eth3"
  } > "$batch"
  ip -n "$ns" -batch "$batch"
  rm -f "$batch"
  echo "== $(ip -n "$ns" -o link show | wc -l) interfaces"
}
