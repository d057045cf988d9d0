# dircat - build, test, install.
#
#   make                 build every program into bin/
#   make check           build and run the test suite (ends "N passed, N failed")
#   make check-long      the suite with a minute of fuzzing per target
#   make asan            the suite under AddressSanitizer + UBSan
#                        (same as: make check SANITIZE=1)
#   make fuzz-build      build the libFuzzer targets (clang; make check
#                        builds them too when clang has libFuzzer, and
#                        runs each for a few seconds on its seed corpus)
#   make fuzz            a fuzzing campaign: every target for FUZZ_RUNS
#                        executions (default 10,000,000) under nice -n 19;
#                        figures in tests/fuzz/campaign.txt, to commit
#                        (FUZZ_MAX_TIME=SECONDS caps each target)
#                        (FUZZ_TARGETS="fuzz_addr ..." picks targets)
#   make bench           benchmarks side by side with postmap/ldapsearch
#                        (BENCH_ARGS=--full adds 1,000,000 entries)
#   make demo            the whole pipeline on this machine
#   make install         programs, manual pages, schema, systemd units and
#                        example configurations (never over an existing one)
#                        and the guides (README, docs/, the examples)
#                        PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc/dircat
#                        STATEDIR=/var/lib/dircat RUNDIR=/run/dircat
#                        UPLOADDIR=/var/lib/dircat-upload
#                        DOCDIR=$(PREFIX)/share/doc/dircat
#                        SYSTEMDUNITDIR=$(PREFIX)/lib/systemd/system
#   make uninstall       remove what install put there, except edited
#                        configurations (same variables)

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Wvla \
           -Wformat=2 -Wno-format-nonliteral
CPPFLAGS_ALL = -D_GNU_SOURCE -Ilib $(PC_CFLAGS) $(CPPFLAGS)
# Each object depends on the headers it includes, as the compiler saw
# them (build/.../*.d); -MP keeps a removed header from stopping make.
DEPFLAGS = -MMD -MP

SANITIZE ?=
ifeq ($(SANITIZE),1)
B        = build/asan
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
           -fno-omit-frame-pointer
else
B        = build/std
SANFLAGS =
endif
BIN = $(if $(filter 1,$(SANITIZE)),$(B)/bin,bin)

ALL_CFLAGS  = $(WARN) $(CFLAGS) $(SANFLAGS) $(CPPFLAGS_ALL)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_SRC  = $(sort $(wildcard lib/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(B)/%.o)
LIBA     = $(B)/libdircat.a

# The libraries' flags from their pkg-config files (each of them ships
# one on Debian 12); the plain -l flags when pkg-config or a .pc file is
# missing.  Evaluated once.
PKG_CONFIG ?= pkg-config
pc_libs   = $(or $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null),$(2))
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
PC_BASE  := $(call pc_libs,lmdb libcrypto libidn2,-llmdb -lcrypto -lidn2)
PC_LDAP  := $(call pc_libs,ldap lber,-lldap -llber)
PC_CURL  := $(call pc_libs,libcurl,-lcurl)
PC_CFLAGS := $(call pc_cflags,lmdb libcrypto libidn2 ldap lber libcurl)

LIBS_BASE = $(PC_BASE)
LIBS_AGG  = $(PC_LDAP) $(LIBS_BASE)
LIBS_REP  = $(PC_CURL) $(LIBS_BASE)
LIBS_CATD = $(LIBS_BASE)
LIBS_ADM  = $(LIBS_BASE)
LIBS_FETCH = $(PC_CURL) $(LIBS_BASE)
LIBS_TEST = $(LIBS_BASE)

AGG_OBJ  = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard aggregator/*.c)))
REP_OBJ  = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard replicator/*.c)))
CATD_OBJ = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard catalogd/*.c)))
ADM_OBJ  = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard admin/*.c)))
FETCH_OBJ = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard fetcher/*.c)))

PROGS = $(BIN)/dircat-aggregator $(BIN)/dircat-replicator $(BIN)/catalogd \
        $(BIN)/dircat $(BIN)/dircat-fetch

TEST_SRC  = $(sort $(wildcard tests/lib/test_*.c))
TEST_BIN  = $(TEST_SRC:tests/lib/%.c=$(B)/tests/%)
TOOL_SRC  = $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=$(B)/tests/tools/%)
BENCH_SRC = $(sort $(wildcard tests/bench/*.c))
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)

.PHONY: all check check-long asan fuzz fuzz-build fuzz-probe bench demo \
        install install-doc uninstall clean tests lint

all: $(PROGS)

# An object whose .d is missing (built before, or the .d removed) is
# built again, since its header dependencies are unknown.
$(B)/%.o: %.c $(B)/%.d
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BIN)/dircat-aggregator: $(AGG_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(AGG_OBJ) $(LIBA) $(LIBS_AGG)

$(BIN)/dircat-replicator: $(REP_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(REP_OBJ) $(LIBA) $(LIBS_REP)

$(BIN)/catalogd: $(CATD_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CATD_OBJ) $(LIBA) $(LIBS_CATD)

$(BIN)/dircat-fetch: $(FETCH_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(FETCH_OBJ) $(LIBA) $(LIBS_FETCH)

$(BIN)/dircat: $(ADM_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(ADM_OBJ) $(LIBA) $(LIBS_ADM)

$(B)/tests/%: tests/lib/%.c $(B)/tests/%.d $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/lib $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS_TEST)

# The aggregator's owner resolution: its modules and libldap too.
OWNERS_OBJ = $(B)/aggregator/collect.o $(B)/aggregator/digest.o \
             $(B)/aggregator/ldapsrc.o
$(B)/tests/test_owners: tests/lib/test_owners.c $(B)/tests/test_owners.d \
                        $(OWNERS_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/lib $(ALL_LDFLAGS) -o $@ $< $(OWNERS_OBJ) $(LIBA) $(LIBS_AGG)

# The AD live source's cookie and filter escape.
$(B)/tests/test_usncookie: tests/lib/test_usncookie.c $(B)/aggregator/usncookie.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/lib $(ALL_LDFLAGS) -o $@ $< $(B)/aggregator/usncookie.o $(LIBA) $(LIBS_TEST)

# The replicator's reading of known_hosts.
$(B)/tests/test_knownhosts: tests/lib/test_knownhosts.c $(B)/replicator/knownhosts.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/lib $(ALL_LDFLAGS) -o $@ $< $(B)/replicator/knownhosts.o $(LIBA) $(LIBS_TEST)

# RFC 4533 values: the aggregator's decoder and liblber.
$(B)/tests/test_syncinfo: tests/lib/test_syncinfo.c $(B)/tests/test_syncinfo.d \
                          $(B)/aggregator/syncinfo.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/lib -Iaggregator $(ALL_LDFLAGS) -o $@ $< $(B)/aggregator/syncinfo.o $(LIBA) $(LIBS_AGG)

$(B)/tests/tools/%: tests/tools/%.c $(B)/tests/tools/%.d $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS_TEST) -lpthread

# The S3 request tool speaks HTTP with libcurl.
$(B)/tests/tools/s3req: tests/tools/s3req.c $(B)/tests/tools/s3req.d $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(PC_CURL) $(LIBS_TEST)

$(B)/bench/%: tests/bench/%.c $(B)/bench/%.d $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS_TEST) -lpthread

# dircat-fetch's configuration reader (http.c's libcurl checks its URL).
FETCHCONF_OBJ = $(B)/fetcher/fetchconf.o $(B)/fetcher/http.o
$(B)/tests/test_fetchconf: tests/lib/test_fetchconf.c $(FETCHCONF_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/lib -Ifetcher $(ALL_LDFLAGS) -o $@ $< $(FETCHCONF_OBJ) $(LIBA) $(PC_CURL) $(LIBS_TEST)

# The lookup poller asks slapd too.
$(B)/bench/lookpoll: tests/bench/lookpoll.c $(B)/bench/lookpoll.d $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(PC_LDAP) $(LIBS_TEST)

# Snapshots installed as catalogd installs them: its apply module too.
APPLY_OBJ = $(B)/catalogd/apply.o
INBOX_OBJ = $(B)/catalogd/inbox.o $(APPLY_OBJ)
$(B)/tests/test_inbox: tests/lib/test_inbox.c $(INBOX_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/lib -Icatalogd $(ALL_LDFLAGS) -o $@ $< $(INBOX_OBJ) $(LIBA) $(LIBS_TEST)
$(B)/bench/snapshot_bench: tests/bench/snapshot_bench.c $(APPLY_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Icatalogd $(ALL_LDFLAGS) -o $@ $< $(APPLY_OBJ) $(LIBA) $(LIBS_TEST) -lpthread
$(B)/tests/test_apply: tests/lib/test_apply.c $(APPLY_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/lib -Icatalogd $(ALL_LDFLAGS) -o $@ $< $(APPLY_OBJ) $(LIBA) $(LIBS_TEST)

tests: $(PROGS) $(TEST_BIN) $(TOOL_BIN)

# The header dependencies the compiler wrote (none before the first build).
DEPS = $(LIB_OBJ:.o=.d) $(AGG_OBJ:.o=.d) $(REP_OBJ:.o=.d) \
       $(CATD_OBJ:.o=.d) $(ADM_OBJ:.o=.d) $(FETCH_OBJ:.o=.d) \
       $(TEST_BIN:=.d) $(TOOL_BIN:=.d) $(BENCH_BIN:=.d)
-include $(DEPS)
$(B)/%.d: ;
.PRECIOUS: $(B)/%.d

check: tests fuzz-probe
	DIRCAT_BIN=$(CURDIR)/$(BIN) DIRCAT_TESTBIN=$(CURDIR)/$(B)/tests \
	DIRCAT_SANITIZE=$(SANITIZE) tests/run.sh

check-long: tests fuzz-probe
	DIRCAT_BIN=$(CURDIR)/$(BIN) DIRCAT_TESTBIN=$(CURDIR)/$(B)/tests \
	DIRCAT_LONG=1 tests/run.sh

asan:
	$(MAKE) check SANITIZE=1

# libFuzzer targets: clang only, their own build directory, the library
# built once for all of them with coverage instrumentation and ASan+UBSan.
FUZZ_CC    ?= clang
FUZZ_RUNS  ?= 10000000
FUZZ_TARGETS ?=
FUZZ_MAX_TIME ?= 0
FD          = build/fuzz
FUZZ_SRC    = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN    = $(FUZZ_SRC:tests/fuzz/%.c=$(FD)/%)
FUZZ_LIBOBJ = $(LIB_SRC:%.c=$(FD)/%.o)
FUZZ_CFLAGS = $(WARN) -g -O1 -fno-omit-frame-pointer $(CPPFLAGS_ALL) -Itests/lib \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined

fuzz-build: $(FUZZ_BIN)

# make check: build the targets when clang links a libFuzzer program,
# otherwise record why not, so that the suite's fuzz line says "skipped".
fuzz-probe:
	@mkdir -p $(FD)
	@rm -f $(FD)/unavailable
	@if printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)n & 0; }\n' | \
	    $(FUZZ_CC) -x c -fsanitize=fuzzer -o $(FD)/probe - >/dev/null 2>&1; then \
	    rm -f $(FD)/probe; $(MAKE) --no-print-directory fuzz-build; \
	else \
	    echo "$(FUZZ_CC) cannot build libFuzzer programs (scripts/deps.sh test installs clang and libclang-rt-14-dev)" >$(FD)/unavailable; \
	    echo "fuzz: skipped: `cat $(FD)/unavailable`"; \
	fi

fuzz: fuzz-build
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_TARGETS="$(FUZZ_TARGETS)" \
	FUZZ_MAX_TIME=$(FUZZ_MAX_TIME) nice -n 19 tests/fuzz/campaign.sh

$(FD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c \
	    -o $@ $<

$(FD)/libdircat.a: $(FUZZ_LIBOBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_LIBOBJ)

$(FD)/fuzz_syncinfo: tests/fuzz/fuzz_syncinfo.c aggregator/syncinfo.c $(FD)/libdircat.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iaggregator -fsanitize=fuzzer -o $@ $< \
	    aggregator/syncinfo.c $(FD)/libdircat.a $(LIBS_AGG)

$(FD)/fuzz_usncookie: tests/fuzz/fuzz_usncookie.c aggregator/usncookie.c $(FD)/libdircat.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iaggregator -fsanitize=fuzzer -o $@ $< \
	    aggregator/usncookie.c $(FD)/libdircat.a $(LIBS_BASE)

$(FD)/fuzz_knownhosts: tests/fuzz/fuzz_knownhosts.c replicator/knownhosts.c $(FD)/libdircat.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ireplicator -fsanitize=fuzzer -o $@ $< \
	    replicator/knownhosts.c $(FD)/libdircat.a $(LIBS_BASE)

$(FD)/fuzz_%: tests/fuzz/fuzz_%.c $(FD)/libdircat.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FD)/libdircat.a $(LIBS_BASE)

# catalogd's inbox names: inbox.c and the apply module it links with.
FUZZ_INBOX_OBJ = $(FD)/catalogd/inbox.o $(FD)/catalogd/apply.o
$(FD)/fuzz_inboxname: tests/fuzz/fuzz_inboxname.c $(FUZZ_INBOX_OBJ) $(FD)/libdircat.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -Icatalogd -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_INBOX_OBJ) $(FD)/libdircat.a $(LIBS_BASE)

# dircat status --watch FILE.
$(FD)/fuzz_watchstat: tests/fuzz/fuzz_watchstat.c $(FD)/admin/watchstat.o $(FD)/libdircat.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -Iadmin -fsanitize=fuzzer -o $@ $< \
	    $(FD)/admin/watchstat.o $(FD)/libdircat.a $(LIBS_BASE)

# dircat-fetch: fetch.c and http.c are compiled into the target itself
# (their static functions are what it calls).
$(FD)/fuzz_fetch: tests/fuzz/fuzz_fetch.c fetcher/fetch.c fetcher/http.c $(FD)/libdircat.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -Ifetcher -fsanitize=fuzzer -o $@ $< \
	    $(FD)/libdircat.a $(PC_CURL) $(LIBS_BASE)

# The configuration target also runs the programs' own loaders.
FUZZ_CONF_OBJ = $(FD)/aggregator/aggconf.o $(FD)/aggregator/ldapsrc.o \
                $(FD)/replicator/repconf.o $(FD)/replicator/xfer.o \
                $(FD)/replicator/knownhosts.o $(FD)/fetcher/fetchconf.o \
                $(FD)/fetcher/http.o
$(FD)/fuzz_config: tests/fuzz/fuzz_config.c $(FUZZ_CONF_OBJ) $(FD)/libdircat.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -Iaggregator -Icatalogd \
	    -Ireplicator -Ifetcher -fsanitize=fuzzer -o $@ $< $(FUZZ_CONF_OBJ) \
	    $(FD)/libdircat.a $(LIBS_AGG) $(PC_CURL)
-include $(FUZZ_LIBOBJ:.o=.d) $(FUZZ_CONF_OBJ:.o=.d) $(FUZZ_BIN:=.d)

bench: tests $(BENCH_BIN)
	DIRCAT_BIN=$(CURDIR)/bin DIRCAT_BENCHBIN=$(CURDIR)/$(B)/bench \
	DIRCAT_TESTBIN=$(CURDIR)/$(B)/tests tests/bench/run.sh $(BENCH_ARGS)

demo: all
	scripts/demo.sh

# Installation.  Programs that run as services go to sbin (manual
# section 8), the admin tool to bin; manual pages by their section.  The
# units and example configurations get the paths below filled in; an
# existing configuration file is never overwritten (the new example goes
# next to it as FILE.dist), and uninstall keeps one that differs from the
# example.  Nothing here creates accounts or touches STATEDIR: README,
# "Running it as a service".
BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
DATADIR        ?= $(PREFIX)/share/dircat
DOCDIR         ?= $(PREFIX)/share/doc/dircat
SYSCONFDIR     ?= /etc/dircat
STATEDIR       ?= /var/lib/dircat
UPLOADDIR      ?= /var/lib/dircat-upload
RUNDIR         ?= /run/dircat
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

INST_BIN   = dircat
INST_SBIN  = dircat-aggregator dircat-replicator catalogd dircat-fetch
INST_MAN   = $(sort $(wildcard man/*.1 man/*.5 man/*.7 man/*.8))
INST_DATA  = $(sort $(wildcard schema/*.schema schema/*.ldif))
INST_SPEC  = $(sort $(wildcard schema/*.md))
INST_UNITS = $(notdir $(sort $(wildcard systemd/*.service systemd/*.timer)))
INST_CONF  = $(notdir $(sort $(wildcard etc/*.conf)))
# Guides and examples, under DOCDIR as in the source tree (README's links
# to docs/ keep working); the example configurations again, with the
# paths filled in, in DOCDIR/etc for comparing with edited ones.
INST_DOC   = README.md CHANGELOG.md
INST_DOCS  = $(sort $(wildcard docs/*.md))
INST_DOCEX = $(sort $(wildcard docs/examples/*))
INST_GEN   = build/install
# Units: @NAME@ placeholders.  Configurations: the default paths.
INST_SUBST_UNIT = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
    -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@STATEDIR@|$(STATEDIR)|g' \
    -e 's|@UPLOADDIR@|$(UPLOADDIR)|g' -e 's|@RUNDIR@|$(RUNDIR)|g' \
    -e 's|^RuntimeDirectory=dircat$$|RuntimeDirectory=$(patsubst /run/%,%,$(RUNDIR))|'
INST_SUBST_CONF = sed -e 's|/etc/dircat|$(SYSCONFDIR)|g' \
    -e 's|/var/lib/dircat-upload|@UPLOADDIR@|g' \
    -e 's|/var/lib/dircat|$(STATEDIR)|g' -e 's|@UPLOADDIR@|$(UPLOADDIR)|g' \
    -e 's|/run/dircat|$(RUNDIR)|g'

install: all install-doc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR) $(INST_GEN)
	install -m 755 $(INST_BIN:%=$(BIN)/%) $(DESTDIR)$(BINDIR)
	install -m 755 $(INST_SBIN:%=$(BIN)/%) $(DESTDIR)$(SBINDIR)
	@set -e; for p in $(INST_MAN); do \
	    d=$(DESTDIR)$(MANDIR)/man$${p##*.}; \
	    echo "install -m 644 $$p $$d"; \
	    install -d $$d; install -m 644 $$p $$d; \
	done
	install -m 644 $(INST_DATA) $(DESTDIR)$(DATADIR)
	@set -e; for u in $(INST_UNITS); do \
	    $(INST_SUBST_UNIT) systemd/$$u >$(INST_GEN)/$$u; \
	    echo "install -m 644 systemd/$$u $(DESTDIR)$(SYSTEMDUNITDIR)/$$u"; \
	    install -m 644 $(INST_GEN)/$$u $(DESTDIR)$(SYSTEMDUNITDIR)/$$u; \
	done
	@set -e; for c in $(INST_CONF); do \
	    $(INST_SUBST_CONF) etc/$$c >$(INST_GEN)/$$c; \
	    d=$(DESTDIR)$(SYSCONFDIR)/$$c; \
	    if [ ! -e $$d ]; then \
	        install -m 644 $(INST_GEN)/$$c $$d; \
	        echo "install -m 644 etc/$$c $$d"; \
	    elif cmp -s $(INST_GEN)/$$c $$d; then \
	        echo "$$d: already the example, left as it is"; \
	    else \
	        install -m 644 $(INST_GEN)/$$c $$d.dist; \
	        echo "$$d: NOT replaced (it differs from the example); the new example is $$d.dist"; \
	    fi; \
	done

# The guides alone (the Debian packaging installs them with this).
install-doc:
	install -d $(DESTDIR)$(DOCDIR)/docs/examples $(DESTDIR)$(DOCDIR)/etc \
	    $(DESTDIR)$(DOCDIR)/schema $(INST_GEN)
	install -m 644 $(INST_DOC) $(DESTDIR)$(DOCDIR)
	install -m 644 $(INST_SPEC) $(DESTDIR)$(DOCDIR)/schema
	install -m 644 $(INST_DOCS) $(DESTDIR)$(DOCDIR)/docs
	install -m 644 $(INST_DOCEX) $(DESTDIR)$(DOCDIR)/docs/examples
	@set -e; for c in $(INST_CONF); do \
	    $(INST_SUBST_CONF) etc/$$c >$(INST_GEN)/$$c; \
	    echo "install -m 644 etc/$$c $(DESTDIR)$(DOCDIR)/etc/$$c"; \
	    install -m 644 $(INST_GEN)/$$c $(DESTDIR)$(DOCDIR)/etc/$$c; \
	done

uninstall:
	rm -rf $(DESTDIR)$(DOCDIR)
	rm -f $(INST_BIN:%=$(DESTDIR)$(BINDIR)/%) \
	    $(INST_SBIN:%=$(DESTDIR)$(SBINDIR)/%) \
	    $(INST_UNITS:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%) \
	    $(addprefix $(DESTDIR)$(DATADIR)/,$(notdir $(INST_DATA)))
	@set -e; for p in $(INST_MAN); do \
	    f=$(DESTDIR)$(MANDIR)/man$${p##*.}/$${p#man/}; \
	    echo "rm -f $$f"; rm -f $$f; \
	done
	-rmdir $(DESTDIR)$(DATADIR)
	@mkdir -p $(INST_GEN)
	@set -e; for c in $(INST_CONF); do \
	    $(INST_SUBST_CONF) etc/$$c >$(INST_GEN)/$$c; \
	    for d in $(DESTDIR)$(SYSCONFDIR)/$$c $(DESTDIR)$(SYSCONFDIR)/$$c.dist; do \
	        [ -e $$d ] || continue; \
	        if cmp -s $(INST_GEN)/$$c $$d; then \
	            echo "rm -f $$d"; rm -f $$d; \
	        else \
	            echo "$$d: kept (it differs from the example)"; \
	        fi; \
	    done; \
	done
	@rmdir $(DESTDIR)$(SYSCONFDIR) 2>/dev/null || \
	    echo "$(DESTDIR)$(SYSCONFDIR): kept (not empty)"

lint:
	bash tests/integration/lint.sh

clean:
	rm -rf build bin
