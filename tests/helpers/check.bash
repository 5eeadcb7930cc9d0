# check.bash: reading ucspitls-check's reports, for ucspitls-check.bats and
# ucspitls-check-ctl.bats. The report file is $REPORT unless given.

# report [FILE]: the report, once its summary is written.
report() {
  wait_grep '^SUMMARY: ' "${1:-$REPORT}" 30
  cat "${1:-$REPORT}"
}

# verdict RULE [FILE]: PASS, WARN or FAIL.
verdict() { sed -n "s/^\(PASS\|WARN\|FAIL\) $1: .*/\1/p" "${2:-$REPORT}" | head -n1; }

# all_pass RULE...: each named rule passes ($REPORT_FILE, else $REPORT).
all_pass() {
  local r f=${REPORT_FILE:-$REPORT}
  for r in "$@"; do
    [ "$(verdict "$r" "$f")" = PASS ] || { echo "$r: $(grep " $r: " "$f")" >&2; return 1; }
  done
}

# others_pass RULE...: every rule of the report except those named passes.
others_pass() {
  local line rule ok=1
  while read -r line; do
    rule=${line#* }; rule=${rule%%:*}
    case " $* " in *" $rule "*) continue ;; esac
    [ "${line%% *}" = PASS ] || { echo "not PASS: $line" >&2; ok=; }
  done < <(grep -E '^(PASS|WARN|FAIL) ' "${REPORT_FILE:-$REPORT}")
  [ -n "$ok" ]
}
