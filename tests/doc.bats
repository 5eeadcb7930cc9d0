#!/usr/bin/env bats
# doc.bats: the man pages lint clean, every program has one, and what they
# say about options, defaults and the library matches the programs and headers.
#
# Needs UST_SRC (the source tree); the usage checks also use UST_BIN (the
# built programs) and skip a program whose binary is absent.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
  : "${UST_SRC:?UST_SRC must name the source tree}"
  DOC="$UST_SRC/doc"
  command -v mandoc >/dev/null 2>&1 || fail "mandoc is not installed (Debian package mandoc)"
}

# The programs: every source file under src/ or proxies/ that defines main.
programs() {
  grep -rlsE --include='*.c' '^[[:space:]]*int[[:space:]]+main[[:space:]]*\(' "$UST_SRC/src" "$UST_SRC/proxies" |
    sed 's|.*/||; s|\.c$||' | LC_ALL=C sort -u
}

# A man page as plain text, one line per paragraph.
render() {
  mandoc -T ascii -O width=1000 "$1" 2>/dev/null | sed $'s/.\b//g'
}

# The SYNOPSIS entry of program $2 in the rendered page $1, on one line.
synopsis_of() {
  render "$1" | awk -v p="$2" '
    /^[A-Z]/ { insyn = ($0 == "SYNOPSIS") ; inentry = 0 ; next }
    !insyn { next }
    /^ *$/ { inentry = 0 ; next }
    /^     [^ ]/ { inentry = ($1 == p) }
    inentry { printf "%s ", $0 }'
}

# The usage text that program $1 prints for a bad option, after "usage: "
# (with a second form's "or:" line appended).
# Tries a few option characters that no program accepts.
usage_of() {
  local bin="$1" bad err status
  for bad in -@ -% -=; do
    err=$(timeout 10 "$bin" "$bad" </dev/null 2>&1 >/dev/null)
    status=$?
    if [ "$status" -eq 100 ] && printf '%s\n' "$err" | grep -q ': fatal: usage: '; then
      # a program with two forms goes on with "   or: ..." lines, as SYNOPSIS has two entries
      printf '%s\n' "$err" | awk '/: fatal: usage: / && !u { sub(/.*: fatal: usage: /, "") ; printf "%s", $0 ; u = 1 ; next }
        u && /^ +or: / { sub(/^ +or: /, "") ; printf " %s", $0 ; next } u { exit } END { print "" }'
      return 0
    fi
  done
  echo "exit $status, stderr: $err"
  return 1
}

# The option letters named in a synopsis ("-S", "-K ms"...), sorted, as one word.
option_letters() {
  tr '[]|' '   ' | tr -s ' \t' '\n\n' | grep -E '^-[A-Za-z0-9]$' | cut -c2 | LC_ALL=C sort -u | tr -d '\n'
}

# A synopsis with the usage text's spacing differences removed.
normalise() {
  sed -E 's/\[ +/[/g; s/ +\]/]/g; s/([^ ])\.\.\./\1 .../g; s/[[:space:]]+/ /g; s/^ //; s/ $//'
}

# The programs to check against their usage text: the built ones.
built_programs() {
  local p
  { programs ; [ -n "${UST_BIN:-}" ] && [ -d "$UST_BIN" ] && ls "$UST_BIN" ; } | LC_ALL=C sort -u |
    while read -r p; do
      [ -n "${UST_BIN:-}" ] && [ -x "$UST_BIN/$p" ] && [ -f "$UST_BIN/$p" ] && echo "$p"
    done
}

@test "doc: every man page lints clean with mandoc -T lint -W warning" {
  local pages=()
  shopt -s nullglob
  pages=("$DOC"/*.1 "$DOC"/*.3)
  [ "${#pages[@]}" -gt 0 ] || fail "no man pages in $DOC"
  run mandoc -T lint -W warning "${pages[@]}"
  assert_output ""
  assert_success
}

@test "doc: every program under src/ and proxies/ has doc/<name>.1" {
  local p n=0 missing=""
  for p in $(programs); do
    n=$((n + 1))
    [ -f "$DOC/$p.1" ] || missing="$missing $p"
  done
  # The engines, controllers and wrappers at least: a search that finds fewer is broken.
  [ "$n" -ge 6 ] || fail "found only $n programs (files with int main) under $UST_SRC/src and proxies"
  [ -z "$missing" ] || fail "programs without a man page in doc/:$missing"
}

@test "doc: each SYNOPSIS names the same options as the program's usage text" {
  local p usage man u m checked=0 errors=""
  [ -n "${UST_BIN:-}" ] || skip "UST_BIN is not set"
  for p in $(built_programs); do
    [ -f "$DOC/$p.1" ] || { errors="$errors"$'\n'"$p: no doc/$p.1" ; continue ; }
    usage=$(usage_of "$UST_BIN/$p") || { errors="$errors"$'\n'"$p: no usage line for a bad option ($usage)" ; continue ; }
    [ "${usage%% *}" = "$p" ] || errors="$errors"$'\n'"$p: the usage text names another program: $usage"
    man=$(synopsis_of "$DOC/$p.1" "$p")
    [ -n "$man" ] || { errors="$errors"$'\n'"$p: no SYNOPSIS entry for $p in doc/$p.1" ; continue ; }
    u=$(printf '%s\n' "$usage" | option_letters)
    m=$(printf '%s\n' "$man" | option_letters)
    [ -n "$u" ] || errors="$errors"$'\n'"$p: no option letters found in the usage text: $usage"
    [ "$u" = "$m" ] || errors="$errors"$'\n'"$p: usage has options [$u], doc/$p.1 SYNOPSIS has [$m]"
    checked=$((checked + 1))
  done
  [ -z "$errors" ] || fail "mismatches:$errors"
  [ "$checked" -gt 0 ] || skip "no built program found in $UST_BIN"
}

@test "doc: each SYNOPSIS reads like the program's usage text" {
  local p usage man errors="" checked=0
  [ -n "${UST_BIN:-}" ] || skip "UST_BIN is not set"
  for p in $(built_programs); do
    [ -f "$DOC/$p.1" ] || continue   # reported by the tests above
    usage=$(usage_of "$UST_BIN/$p") || continue
    man=$(synopsis_of "$DOC/$p.1" "$p" | normalise)
    usage=$(printf '%s\n' "$usage" | normalise)
    [ "$usage" = "$man" ] || errors="$errors"$'\n'"$p:"$'\n'"  usage:    $usage"$'\n'"  SYNOPSIS: $man"
    checked=$((checked + 1))
  done
  [ -z "$errors" ] || fail "SYNOPSIS differs from the usage text:$errors"
  [ "$checked" -gt 0 ] || skip "no built program found in $UST_BIN"
}

@test "doc: the -K and -t defaults in the man pages are engine.h's" {
  local k t p page para errors=""
  k=$(sed -nE 's/^#define ENGINE_HANDSHAKE_MS_DEFAULT ([0-9]+)U?.*/\1/p' "$UST_SRC/src/include/engine.h")
  t=$(sed -nE 's/^#define ENGINE_IDLE_MS_DEFAULT ([0-9]+)U?.*/\1/p' "$UST_SRC/src/include/engine.h")
  [ -n "$k" ] && [ -n "$t" ] || fail "cannot read the defaults from engine.h"
  for p in tlsd-io tlsc-io tlsd tlsc ucspitlsd ucspitlsc; do
    page="$DOC/$p.1"
    [ -f "$page" ] || { errors="$errors"$'\n'"$p: no man page" ; continue ; }
    para=$(render "$page" | grep -E '^     -K ms ')
    [[ "$para" =~ (^|[^0-9])$k([^0-9]|$) ]] || errors="$errors"$'\n'"$p: -K does not say the default is $k: $para"
    para=$(render "$page" | grep -E '^     -t ms ')
    [[ "$para" =~ (^|[^0-9])$t([^0-9]|$) ]] || errors="$errors"$'\n'"$p: -t does not say the default is $t: $para"
  done
  [ -z "$errors" ] || fail "$errors"
}

@test "doc: ucspitls.3 documents every function of ucspitls.h and tlsinfo.h" {
  local f missing="" n=0 syn
  syn=$(render "$DOC/ucspitls.3" | awk '/^[A-Z]/ { insyn = ($0 == "SYNOPSIS") ; next } insyn')
  for f in $(sed -nE 's/^extern [^(]*[ *]([a-z_]+) *\(.*/\1/p' "$UST_SRC/src/include/ucspitls.h" "$UST_SRC/src/include/tlsinfo.h"); do
    n=$((n + 1))
    grep -qE "(^|[^a-z_])$f\(" <<<"$syn" || missing="$missing $f"
  done
  [ "$n" -ge 8 ] || fail "found only $n functions in the headers: the search is broken"
  [ -z "$missing" ] || fail "not in the SYNOPSIS of ucspitls.3:$missing"
}

@test "doc: the C example of ucspitls.3 compiles against the installed headers" {
  command -v cc >/dev/null 2>&1 || fail "no C compiler"
  awk '/^\.Sh EXAMPLES/ { ex = 1 } ex && /^\.Bd -literal/ { on = 1 ; next } on && /^\.Ed/ { exit } on' "$DOC/ucspitls.3" |
    sed 's/\\e/\\/g; s/\\&//g' >"$BATS_TEST_TMPDIR/example.c"
  grep -q 'ucspitls_start' "$BATS_TEST_TMPDIR/example.c" || fail "no C example using ucspitls_start in ucspitls.3"
  run cc -std=c99 -Wall -Wextra -Werror -fsyntax-only -I"$UST_SRC/src/include" "$BATS_TEST_TMPDIR/example.c"
  assert_success
}

@test "doc: the limits in guarantees.md are the compiled-in ones" {
  local g="$UST_SRC/doc/guarantees.md" errors="" name file row want v
  # constant, header, the start of the row of guarantees.md that states it, unit divisor
  while read name file row div; do  # no -r: "\ " keeps a row name whole
    v=$(sed -nE "s/^#define $name \(?([0-9]+)U?.*/\1/p" "$UST_SRC/$file")
    [ -n "$v" ] || { errors="$errors"$'\n'"$name not found in $file" ; continue ; }
    want=$((v / div))
    grep -E "^\| $row" "$g" | grep -qE "(^|[^0-9])$want([^0-9]|$)" || errors="$errors"$'\n'"$name=$v: the row '$row' does not say $want"
  done <<'LIST'
SMTP_LINE_MAX_DEFAULT proxies/smtp.h SMTP\ command\ line 1
IMAP_LINE_MAX_DEFAULT proxies/imap.h IMAP\ command\ line 1
POP3_LINE_MAX_DEFAULT proxies/pop3.h POP3\ command\ line 1
POP3_SASL_LINE_MAX proxies/pop3.h POP3\ command\ line 1
EHLO_REPLY_MAX proxies/smtp.c SMTP\ EHLO\ reply 1
CAPA_REPLY_MAX proxies/pop3.c POP3\ CAPA\ reply 1
JUNK_MAX proxies/smtp.c SMTP\ commands\ outside 1
PROXY_PENDING_MAX proxies/proxy-internal.h replies\ due 1
PROXY_OUT_HIGH proxies/proxy-internal.h proxy\ output\ queues 1024
PROXY_INBUF proxies/proxy-internal.h proxy\ read\ buffers 1024
UST_LINGER_MS src/include/ust.h proxy:\ draining 1000
UST_LINGER_MAX src/include/ust.h proxy:\ draining 1048576
UST_END_GRACE_MS src/include/ust.h backend:\ still 1000
UST_END_KILL_MS src/include/ust.h backend:\ still 1000
TLSINFO_BLOCK_MAX src/include/tlsinfo.h info\ block 1
ENGINE_HANDSHAKE_MS_DEFAULT src/include/engine.h engine:\ handshake 1000
ENGINE_IDLE_MS_DEFAULT src/include/engine.h engine:\ no\ byte 1000
ENGINE_LINGER_MS src/include/engine.h engine:\ draining 1000
LIST
  [ -z "$errors" ] || fail "$errors"
}
