#!/usr/bin/env bash
# Puts Shopify's Admin GraphQL schema (2025-01 introspection) where the tests look for it.
# The schema is Shopify's, not ours: it is never committed. Sources, in order:
#   ../shared/shopify-schema/ (the project's shared folder), then .schema/ (a previous
#   fetch), else the npm package @shopify/dev-mcp@1.1.0, which ships it.
set -euo pipefail
cd "$(dirname "$0")/.."
file=admin_schema_2025-01.json.gz
sha=1057c5bca68fafa831bad094d0c42a236eebc255d74347eca8f9d2670ff60608
if [ -n "${SKUBRIDGE_SHOPIFY_SCHEMA:-}" ] && [ -f "$SKUBRIDGE_SHOPIFY_SCHEMA" ]; then exit 0; fi
if [ -f "../shared/shopify-schema/$file" ] || [ -f ".schema/$file" ]; then exit 0; fi
command -v npm >/dev/null || { echo "make schema: npm is needed to fetch Shopify's schema (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "Fetching Shopify's Admin schema from npm (@shopify/dev-mcp@1.1.0)..." >&2
(cd "$tmp" && npm pack --silent @shopify/dev-mcp@1.1.0 >/dev/null)
tar -xzf "$tmp"/shopify-dev-mcp-1.1.0.tgz -C "$tmp" "package/data/$file"
echo "$sha  $tmp/package/data/$file" | sha256sum -c --quiet -
mkdir -p .schema
mv "$tmp/package/data/$file" ".schema/$file"
