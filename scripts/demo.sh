#!/usr/bin/env bash
# make demo: the demo store's stock reaching a sandbox channel, no account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CARGO_TARGET_DIR:-target}/debug
work=$(mktemp -d)
sandbox_pid=
cleanup() {
    [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$bin/skubridge-sandbox" --fixture fixtures/demo --addr 127.0.0.1:0 >"$work/url" &
sandbox_pid=$!
for _ in $(seq 50); do [ "$(wc -l <"$work/url")" -ge 2 ] && break; sleep 0.1; done
export SANDBOX_URL=$(sed -n 1p "$work/url")
export SANDBOX_SMTP_URL=$(sed -n 2p "$work/url")
if [ -z "$SANDBOX_URL" ] || [ -z "$SANDBOX_SMTP_URL" ]; then
    echo "make demo: the sandbox did not start ($bin/skubridge-sandbox); run make build first" >&2
    exit 1
fi
export SHOPIFY_ACCESS_TOKEN=shpat_sandbox_demo
export ICONIC_CLIENT_SECRET=iconic-sandbox-demo-secret
cp fixtures/demo/skubridge.toml "$work/"
chmod 600 "$work/skubridge.toml"
skubridge() { "$bin/skubridge" --config "$work/skubridge.toml" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Harbour & Pine: a Shopify store (30 variants, 2 locations) and The Iconic, served by skubridge-sandbox at $SANDBOX_URL"
say "The Iconic before skubridge"
curl -s "$SANDBOX_URL/_sandbox/report"

say "skubridge sync --dry-run   (reads everything, changes nothing)"
skubridge sync --dry-run

say "skubridge sync   (first pass: match SKUs exactly, push every target)"
skubridge sync || true

say "A customer buys 4 x HP-LINEN-WHT-M in the Shopify store; the warehouse restocks HP-MERINO-NVY-L to 12"
curl -s -X POST "$SANDBOX_URL/_sandbox/shopify/inventory" -H 'content-type: application/json' \
    -d '[{"sku":"HP-LINEN-WHT-M","location_id":1,"available":2},{"sku":"HP-MERINO-NVY-L","location_id":1,"available":12}]' >/dev/null

say "skubridge sync   (steady state: reads only what changed, pushes only differences)"
skubridge sync || true

say "A customer orders 2 x HP-MERINO-NVY-L and 1 x HP-LINEN-WHT-M on The Iconic"
curl -s -X POST "$SANDBOX_URL/_sandbox/iconic/orders" -H 'content-type: application/json' -d '{
  "id": 7001, "number": 300007001, "email": "sam@example.com",
  "customer": {"first_name": "Sam", "last_name": "Lee"},
  "address": {"first_name": "Sam", "last_name": "Lee", "phone": "0400 000 000",
    "address1": "12 Smith St", "city": "Fitzroy", "region": "VIC", "post_code": "3065", "country": "AU"},
  "delivery_info": "Standard", "shipping_fee": "9.95",
  "items": [
    {"id": 70011, "seller_sku": "HP-MERINO-NVY-L", "paid_price": "129.00", "unit_price": "129.00"},
    {"id": 70012, "seller_sku": "HP-MERINO-NVY-L", "paid_price": "129.00", "unit_price": "129.00"},
    {"id": 70013, "seller_sku": "HP-LINEN-WHT-M", "paid_price": "89.95", "unit_price": "89.95"}]}' >/dev/null

say "skubridge sync   (the order becomes one Shopify order, its stock is claimed, the channel follows)"
skubridge sync || true

say "skubridge orders"
skubridge orders

say "The warehouse ships it: fulfilled in Shopify with Australia Post, tracking AP123456789AU"
curl -s -X POST "$SANDBOX_URL/_sandbox/shopify/orders/1/fulfillments" -H 'content-type: application/json' \
    -d '{"company": "Australia Post", "number": "AP123456789AU"}' >/dev/null

say "skubridge fulfil   (the next sync would do the same: carrier mapped, tracking pushed once)"
skubridge fulfil || true

say "The Iconic after (quantities skubridge changed are marked)"
curl -s "$SANDBOX_URL/_sandbox/report"
say "skubridge unmatched   (what does not sync, and why; exact SKUs only, never guessed)"
skubridge unmatched

say "skubridge status   (what monitoring calls: exit 0 while healthy)"
skubridge status || true

say "skubridge doctor   (the troubleshooting checklist)"
skubridge doctor || true

say "The email the merchant received (the sandbox's SMTP server; sent once, not every 5 minutes)"
curl -s "$SANDBOX_URL/_sandbox/mail.txt"

echo
echo "The Leather Belt is a draft in Shopify, so its listings are set to 0. Every other quantity is"
echo "the warehouse's available stock minus 1 reserved, capped at 15 (max_stock)."
