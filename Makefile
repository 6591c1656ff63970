# The two setup commands: `make demo` (see it work, no account needed) and `make test`.
.PHONY: all build test demo bench schema lint fmt clean install man fuzz

all: build

build:
	cargo build --workspace --bins

## Fetch Shopify's Admin schema for the GraphQL validation tests (never committed).
schema:
	scripts/fetch-schema.sh

## Every test: unit tests and the end-to-end tests against the sandbox.
test: schema
	cargo test --workspace

## The demo store's stock reaching a sandbox channel.
demo: build
	scripts/demo.sh

## The release binary, and one man page per subcommand generated from its command line
## -> man/. Run it as yourself before `sudo make install`, which only copies.
man:
	cargo build --release --bin skubridge
	target/release/skubridge man --dir man

## Request counts, wall time, CPU and peak RSS at 10k and 100k SKUs -> bench/RESULTS.md
bench:
	cargo build --release --workspace --bins
	scripts/bench.sh

## Fuzz every parser of remote data on stable Rust: the ignored `fuzz_*` tests, each for
## SKUBRIDGE_FUZZ_SECONDS from a fixed seed (SKUBRIDGE_FUZZ_SEED to vary it).
SKUBRIDGE_FUZZ_SECONDS ?= 30
export SKUBRIDGE_FUZZ_SECONDS
fuzz:
	cargo test --release --lib fuzz_ -- --ignored --nocapture --test-threads 2

## The release binary, man pages, shell completions and systemd units under PREFIX (after
## `make man`; nothing is built here, so it runs under sudo without a Rust toolchain).
## `make install PREFIX=/usr DESTDIR=pkg/` for a package. The units' ExecStart names $(PREFIX)/bin.
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
MAN1DIR = $(PREFIX)/share/man/man1
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d
SYSTEMDUNITDIR = $(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d

install:
	@test -x target/release/skubridge && test -f man/skubridge.1 || { \
		echo "make install: run 'make man' first (as yourself: it builds the release binary and the man pages)" >&2; \
		exit 1; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR)
	install -m 755 target/release/skubridge $(DESTDIR)$(BINDIR)/skubridge
	install -m 644 man/*.1 $(DESTDIR)$(MAN1DIR)/
	target/release/skubridge completions bash > $(DESTDIR)$(BASHCOMPDIR)/skubridge
	target/release/skubridge completions zsh > $(DESTDIR)$(ZSHCOMPDIR)/_skubridge
	target/release/skubridge completions fish > $(DESTDIR)$(FISHCOMPDIR)/skubridge.fish
	chmod 644 $(DESTDIR)$(BASHCOMPDIR)/skubridge $(DESTDIR)$(ZSHCOMPDIR)/_skubridge \
		$(DESTDIR)$(FISHCOMPDIR)/skubridge.fish
	for unit in skubridge@.service skubridge@.timer; do \
		sed 's|/usr/local/bin/skubridge|$(BINDIR)/skubridge|g' deploy/systemd/$$unit \
			> $(DESTDIR)$(SYSTEMDUNITDIR)/$$unit && \
		chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$unit || exit 1; \
	done
	install -m 644 deploy/systemd/skubridge.sysusers $(DESTDIR)$(SYSUSERSDIR)/skubridge.conf

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf .schema man
