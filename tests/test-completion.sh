#!/bin/bash
# test-completion.sh: sources the esactl bash completion and completes command
# words (from the built esactl's own list), options and plugin names. TAP.
set -u
top=${ESA_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${ESA_TOP_BUILDDIR:-$top/_b}
export PATH=$build/cli:$PATH
plugins=$(mktemp -d)
trap 'rm -rf "$plugins"' EXIT
: > "$plugins/heartbeat.so"; : > "$plugins/sysinfo.so"
export ESA_PLUGIN_DIR=$plugins ESA_CONFIG=/nonexistent/esa.conf
source "$top/data/esactl.bash-completion"
n=0; failed=0
complete_line() { # prints the completions of the line (a trailing space starts a new word)
  read -ra COMP_WORDS <<<"$1"
  [[ $1 == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _esactl
  echo "${COMPREPLY[*]}"
}
expect() {
  n=$((n + 1)); got=$(complete_line "$1")
  if [ "$got" = "$2" ]; then echo "ok $n - '$1' completes to '$2'"; else echo "not ok $n - '$1': got '$got', expected '$2'"; failed=1; fi
}
expect "esactl qu" "queue"
expect "esactl queue " "list send export retry"
expect "esactl --js" "--json"
expect "esactl --config /x st" "status"
expect "esactl plugin " "list info enable disable"
expect "esactl plugin info s" "sysinfo"
expect "esactl notify " ""
expect "esactl history " "show --since --kind"
expect "esactl preview " "heartbeat inventory problem-test uak-status --output"
expect "esactl history --kind inv" "inventory"
n=$((n + 1))
if complete -p esactl | grep -q _esactl; then echo "ok $n - registered for esactl"; else echo "not ok $n - not registered"; failed=1; fi
echo "1..$n"
exit $failed
