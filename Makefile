# Makefile: builds, tests and installs ucspi-starttls. Run ./configure first
# (in this directory, or in a build directory for an out-of-tree build).

ifeq ($(wildcard config.mak),)
$(error no config.mak here: run ./configure first (./configure --help))
endif
include config.mak

VPATH = $(srcdir)
DESTDIR ?=
BATS ?= bats

# Programs, each a thin main over the libraries below.
ENGINES = tlsd-io tlsc-io
UCSPI = ucspitlsd ucspitlsc tlsd tlsc proxy-header
PROXIES = $(patsubst $(srcdir)/proxies/%.c,%,$(wildcard $(srcdir)/proxies/*d-starttls.c $(srcdir)/proxies/*c-starttls.c))
# The conformance checker: no TLS library, its engine is tlsd-io.
CHECKER = ucspitls-check
PROGRAMS = $(ENGINES) $(UCSPI) $(PROXIES) $(CHECKER)
HELPERS = $(patsubst $(srcdir)/tests/helpers/%.c,tests/helpers/%,$(wildcard $(srcdir)/tests/helpers/*.c))
EXAMPLES = $(patsubst $(srcdir)/examples/%.c,examples/%,$(wildcard $(srcdir)/examples/*.c))

rel = $(patsubst $(srcdir)/%,%,$(1))
# libucspitls: the installed library for UCSPI-TLS applications.
LIBUCSPITLS_SRC = $(call rel,$(wildcard $(srcdir)/src/lib/ucspitls_*.c $(srcdir)/src/lib/tlsinfo_*.c))
# libust: internal shared code (options, environment, fd plumbing, privileges, logging).
LIBUST_SRC = $(filter-out $(LIBUCSPITLS_SRC),$(call rel,$(wildcard $(srcdir)/src/lib/*.c)))
# libustengine: the engine loop and the configured TLS backend (the only code linking a TLS library).
LIBENGINE_SRC = $(call rel,$(wildcard $(srcdir)/src/engine/engine_*.c $(srcdir)/src/backend/$(TLS)/*.c))
# ucspitls-check's own code.
CHECK_SRC = $(call rel,$(wildcard $(srcdir)/src/check/*.c))
# libustproxy: the protocol proxy framework and protocol files.
LIBPROXY_SRC = $(filter-out $(PROXIES:%=proxies/%.c),$(call rel,$(wildcard $(srcdir)/proxies/*.c)))

obj = $(patsubst %.c,build/%.o,$(1))
LIBUCSPITLS = build/libucspitls.a
LIBUST = build/libust.a
LIBENGINE = build/libustengine.a
LIBPROXY = build/libustproxy.a

all: $(PROGRAMS:%=bin/%) $(LIBUCSPITLS) $(HELPERS) $(EXAMPLES)

build/%.o: %.c config.mak config.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBUCSPITLS): $(call obj,$(LIBUCSPITLS_SRC))
$(LIBUST): $(call obj,$(LIBUST_SRC))
$(LIBENGINE): $(call obj,$(LIBENGINE_SRC))
$(LIBPROXY): $(call obj,$(LIBPROXY_SRC))
build/%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

bin/tlsd-io bin/tlsc-io: bin/%: build/src/engine/%.o $(LIBENGINE) $(LIBUST) $(LIBUCSPITLS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(TLS_LIBS) $(SKALIBS_LIBS)

$(UCSPI:%=bin/%): bin/%: build/src/ucspi/%.o $(LIBUST) $(LIBUCSPITLS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(SKALIBS_LIBS)

bin/ucspitls-check: build/src/ucspi/ucspitls-check.o $(call obj,$(CHECK_SRC)) $(LIBUST) $(LIBUCSPITLS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(SKALIBS_LIBS)

$(PROXIES:%=bin/%): bin/%: build/proxies/%.o $(LIBPROXY) $(LIBUST) $(LIBUCSPITLS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(SKALIBS_LIBS)

tests/helpers/%: build/tests/helpers/%.o $(LIBUST) $(LIBUCSPITLS)
	@mkdir -p tests/helpers
	$(CC) $(LDFLAGS) -o $@ $^ $(SKALIBS_LIBS)

examples/%: build/examples/%.o $(LIBUCSPITLS)
	@mkdir -p examples
	$(CC) $(LDFLAGS) -o $@ $^ $(SKALIBS_LIBS)

# The test suite for the configured backend.
check: all
	UST_BIN=$(CURDIR)/bin UST_HELPERS=$(CURDIR)/tests/helpers UST_EXAMPLES=$(CURDIR)/examples UST_TLS=$(TLS) UST_SRC=$(srcdir) UST_SANITIZERS=$(SANITIZERS) UST_STATIC_BUILD=$(STATIC) \
	  $(BATS) $(BATSFLAGS) $(srcdir)/tests/*.bats

# The demo: STARTTLS SMTP, IMAP and POP3 endpoints on localhost (examples/demo).
demo: all
	DEMO_BIN=$(CURDIR)/bin $(srcdir)/examples/demo

install: all
	mkdir -p $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man3 $(DESTDIR)$(docdir)
	for p in $(PROGRAMS) ; do install -m 755 bin/$$p $(DESTDIR)$(bindir)/$$p || exit 1 ; done
	install -m 644 $(LIBUCSPITLS) $(DESTDIR)$(libdir)/libucspitls.a
	install -m 644 $(srcdir)/src/include/ucspitls.h $(srcdir)/src/include/tlsinfo.h $(DESTDIR)$(includedir)/
	for m in $(wildcard $(srcdir)/doc/*.1) ; do install -m 644 $$m $(DESTDIR)$(mandir)/man1/ || exit 1 ; done
	for m in $(wildcard $(srcdir)/doc/*.3) ; do install -m 644 $$m $(DESTDIR)$(mandir)/man3/ || exit 1 ; done
	for d in $(wildcard $(srcdir)/doc/*.md) ; do install -m 644 $$d $(DESTDIR)$(docdir)/ || exit 1 ; done
	if [ -d $(srcdir)/examples ] ; then cp -R $(srcdir)/examples $(DESTDIR)$(docdir)/ ; fi

uninstall:
	for p in $(PROGRAMS) ; do rm -f $(DESTDIR)$(bindir)/$$p ; done
	rm -f $(DESTDIR)$(libdir)/libucspitls.a $(DESTDIR)$(includedir)/ucspitls.h $(DESTDIR)$(includedir)/tlsinfo.h
	for m in $(notdir $(wildcard $(srcdir)/doc/*.1)) ; do rm -f $(DESTDIR)$(mandir)/man1/$$m ; done
	for m in $(notdir $(wildcard $(srcdir)/doc/*.3)) ; do rm -f $(DESTDIR)$(mandir)/man3/$$m ; done
	rm -rf $(DESTDIR)$(docdir)

clean:
	rm -rf build bin $(HELPERS) $(EXAMPLES)

distclean: clean
	rm -f config.mak config.h

.PHONY: all check demo install uninstall clean distclean
.DELETE_ON_ERROR:

-include $(shell find build -name '*.d' 2>/dev/null)

# The benchmark (tests/bench/, issue #7): builds both backends under
# build/bench/ as deployed for speed (BENCH_CONFIGURE, default
# --enable-static), measures them and writes BENCH_REPORT. BENCH_FLAGS=--quick
# for a shorter run. Needs libssl-dev (the client), stunnel4 (the peer, both
# as a server and as a STARTTLS client) and ucspi-tcp.
BENCH_REPORT ?= bench-report.md
BENCH_FLAGS ?=
BENCH_CONFIGURE ?= --enable-static
build/bench/ustbench: tests/bench/ustbench.c
	@mkdir -p build/bench
	$(CC) -O2 -Wall -Wextra -o $@ $< -lssl -lcrypto
build/bench/sink-smtpd: tests/bench/sink-smtpd.c
	@mkdir -p build/bench
	$(CC) -O2 -Wall -Wextra -static -o $@ $<
bench: build/bench/ustbench build/bench/sink-smtpd
	for t in bearssl libtls ; do \
	  mkdir -p build/bench/$$t && (cd build/bench/$$t && $(abspath $(srcdir))/configure --with-tls=$$t $(BENCH_CONFIGURE) >/dev/null && \
	    $(MAKE) $(PROGRAMS:%=bin/%) >build.log 2>&1) || { echo "make bench: the $$t build failed: see build/bench/$$t/build.log" >&2 ; exit 1 ; } ; \
	done
	python3 $(srcdir)/tests/bench/run.py --report $(BENCH_REPORT) --tools build/bench --configure="$(BENCH_CONFIGURE)" \
	  --backend bearssl=build/bench/bearssl/bin --backend libtls=build/bench/libtls/bin $(BENCH_FLAGS)
	@echo "make bench: report in $(BENCH_REPORT)"
.PHONY: bench

# Fuzzing with clang's libFuzzer: make fuzz [FUZZ_SECONDS=n] runs every target.
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. -I$(srcdir)/src/include $(filter -I%,$(CPPFLAGS))
FUZZ_TARGETS = $(patsubst $(srcdir)/tests/fuzz/%.c,%,$(wildcard $(srcdir)/tests/fuzz/fuzz_*.c))
FUZZ_LIBSRC = $(wildcard $(srcdir)/src/lib/*.c) $(filter-out %d-starttls.c %c-starttls.c,$(wildcard $(srcdir)/proxies/*.c))
build/fuzz/fuzz_clienthello: tests/fuzz/fuzz_clienthello.c src/backend/libtls/clienthello.c src/lib/ust_alpn.c
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^
# The proxy targets: the framework less its kernel side (proxy_loop.c and
# proxy_handoff.c, which tests/fuzz/proxy_harness.c stands for), one protocol.
# Each target has its protocol's backend models (tests/fuzz/model_*.c).
FUZZ_PROXY = tests/fuzz/proxy_harness.c tests/fuzz/backend_model.c src/lib/ust_catb.c proxies/proxy_api.c proxies/proxy_frame.c proxies/proxy_starttls.c tests/fuzz/proxy_harness.h tests/fuzz/backend_model.h proxies/proxy-internal.h proxies/proxy.h
build/fuzz/fuzz_smtp build/fuzz/fuzz_imap build/fuzz/fuzz_pop3: build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c proxies/%.c tests/fuzz/model_%.c $(FUZZ_PROXY)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(srcdir)/proxies -I$(srcdir)/tests/fuzz -o $@ $(filter %.c,$^) $(LDFLAGS) $(SKALIBS_LIBS)
build/fuzz/fuzz_imap_literal: tests/fuzz/fuzz_imap_literal.c proxies/imap.c $(FUZZ_PROXY)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(srcdir)/proxies -I$(srcdir)/tests/fuzz -o $@ $(filter %.c,$^) $(LDFLAGS) $(SKALIBS_LIBS)
# The client proxies' targets: their dialogue and filter, no descriptors.
FUZZ_CLIENT = proxies/client_io.c proxies/client_filter.c proxies/client_smtp.c proxies/client_imap.c proxies/client_pop3.c src/lib/ust_ms_left.c src/lib/ust_catb.c proxies/client.h
build/fuzz/fuzz_client_dialogue build/fuzz/fuzz_client_filter: build/fuzz/%: tests/fuzz/%.c $(FUZZ_CLIENT)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(srcdir)/proxies -o $@ $(filter %.c,$^) $(LDFLAGS) $(SKALIBS_LIBS)
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIBSRC)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDFLAGS) $(SKALIBS_LIBS)
# $^, not build/fuzz/$$t: VPATH may have found a target in an in-tree build.
fuzz: $(FUZZ_TARGETS:%=build/fuzz/%)
	for b in $^ ; do t=$${b##*/} ; \
	  c=$(srcdir)/tests/fuzz/corpus/$${t#fuzz_} ; mkdir -p build/fuzz/corpus-$$t ; \
	  echo "== $$t" ; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=build/fuzz/ build/fuzz/corpus-$$t $$c >build/fuzz/$$t.log 2>&1 ; \
	  rc=$$? ; grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' build/fuzz/$$t.log ; [ $$rc = 0 ] || exit 1 ; \
	done
.PHONY: fuzz
