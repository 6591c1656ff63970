# The two setup commands: `make demo` (see it work, no account needed) and `make test`.
.PHONY: all build test demo bench schema lint fmt clean

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

## Request counts, wall time, CPU and peak RSS at 10k and 100k SKUs -> bench/RESULTS.md
bench:
	cargo build --release --workspace --bins
	scripts/bench.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf .schema
