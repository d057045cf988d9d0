# dircat - build, test, install.
#
#   make                 build every program into bin/
#   make check           build and run the test suite (ends "N passed, N failed")
#   make check-long      the suite plus bounded fuzzing runs
#   make asan            the suite under AddressSanitizer + UBSan
#                        (same as: make check SANITIZE=1)
#   make fuzz            build the libFuzzer targets (clang)
#   make bench           benchmarks side by side with postmap/ldapsearch
#                        (BENCH_ARGS=--full adds 1,000,000 entries)
#   make demo            the whole pipeline on this machine
#   make install         PREFIX=/usr/local DESTDIR=

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Wvla \
           -Wformat=2 -Wno-format-nonliteral
CPPFLAGS_ALL = -D_GNU_SOURCE -Ilib $(CPPFLAGS)

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

LIBS_BASE = -llmdb -lcrypto -lidn2
LIBS_AGG  = -lldap -llber $(LIBS_BASE)
LIBS_REP  = -lcurl $(LIBS_BASE)
LIBS_CATD = $(LIBS_BASE)
LIBS_ADM  = $(LIBS_BASE)
LIBS_TEST = $(LIBS_BASE)

AGG_OBJ  = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard aggregator/*.c)))
REP_OBJ  = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard replicator/*.c)))
CATD_OBJ = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard catalogd/*.c)))
ADM_OBJ  = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard admin/*.c)))

PROGS = $(BIN)/dircat-aggregator $(BIN)/dircat-replicator $(BIN)/catalogd \
        $(BIN)/dircat

TEST_SRC  = $(sort $(wildcard tests/lib/test_*.c))
TEST_BIN  = $(TEST_SRC:tests/lib/%.c=$(B)/tests/%)
TOOL_SRC  = $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=$(B)/tests/tools/%)
BENCH_SRC = $(sort $(wildcard tests/bench/*.c))
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)

.PHONY: all check check-long asan fuzz bench demo install clean tests lint

all: $(PROGS)

$(B)/%.o: %.c $(wildcard lib/*.h) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

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

$(BIN)/dircat: $(ADM_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(ADM_OBJ) $(LIBA) $(LIBS_ADM)

$(B)/tests/%: tests/lib/%.c tests/lib/check.h $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/lib $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS_TEST)

$(B)/tests/tools/%: tests/tools/%.c $(wildcard tests/tools/*.h) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS_TEST) -lpthread

$(B)/bench/%: tests/bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS_TEST) -lpthread

tests: $(PROGS) $(TEST_BIN) $(TOOL_BIN)

check: tests
	DIRCAT_BIN=$(CURDIR)/$(BIN) DIRCAT_TESTBIN=$(CURDIR)/$(B)/tests \
	DIRCAT_SANITIZE=$(SANITIZE) tests/run.sh

check-long: tests fuzz
	DIRCAT_BIN=$(CURDIR)/$(BIN) DIRCAT_TESTBIN=$(CURDIR)/$(B)/tests \
	DIRCAT_LONG=1 tests/run.sh

asan:
	$(MAKE) check SANITIZE=1

# libFuzzer targets: clang only, their own build directory.
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS = -std=c11 -g -O1 -D_GNU_SOURCE -Ilib -fsanitize=fuzzer,address,undefined
fuzz: $(FUZZ_BIN)
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) $(LIBS_BASE)

bench: tests $(BENCH_BIN)
	DIRCAT_BIN=$(CURDIR)/bin DIRCAT_BENCHBIN=$(CURDIR)/$(B)/bench \
	DIRCAT_TESTBIN=$(CURDIR)/$(B)/tests tests/bench/run.sh $(BENCH_ARGS)

demo: all
	scripts/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/dircat
	install -m 755 bin/dircat bin/dircat-aggregator bin/dircat-replicator \
	    $(DESTDIR)$(PREFIX)/bin
	install -m 755 bin/catalogd $(DESTDIR)$(PREFIX)/sbin
	-install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1
	-install -m 644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 schema/* $(DESTDIR)$(PREFIX)/share/dircat

lint:
	bash tests/integration/lint.sh

clean:
	rm -rf build bin
