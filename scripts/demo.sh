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
export HARDTOFIND_PASSWORD=htf-sandbox-demo-password
export MIRAKL_API_KEY=mirakl-sandbox-demo-key
cp fixtures/demo/skubridge.toml "$work/"
chmod 600 "$work/skubridge.toml"
skubridge() { "$bin/skubridge" --config "$work/skubridge.toml" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Harbour & Pine: a Shopify store (30 variants, 2 locations), The Iconic, Hard To Find and a Mirakl marketplace, served by skubridge-sandbox at $SANDBOX_URL"
say "The Iconic before skubridge"
curl -s "$SANDBOX_URL/_sandbox/report"
say "Hard To Find before skubridge (it sells the gifts: totes and beanies, tagged \"hardtofind\" in Shopify)"
curl -s "$SANDBOX_URL/_sandbox/report/hardtofind"
say "The Mirakl marketplace before skubridge (stock goes as one import file per pass)"
curl -s "$SANDBOX_URL/_sandbox/report/mirakl"

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

say "A customer orders a Canvas Tote on Hard To Find, monogrammed and gift wrapped"
curl -s -X POST "$SANDBOX_URL/_sandbox/hardtofind/orders" -H 'content-type: application/json' -d '{
  "id": 52001, "shipping": "8.50",
  "lines": [{"sku": "HP-TOTE-NAT", "description": "Canvas Tote, natural", "price": "49.00", "quantity": 1,
             "personalisations": [{"name": "Monogram", "value": "S.L."}]}],
  "gift_wrapping": {"description": "Recycled kraft", "message": "Happy birthday, Sam!", "price": "5.00"},
  "address": {"first_name": "Alex", "last_name": "Ng", "line_one": "3 Bay Rd", "suburb": "Hobart",
              "state": "TAS", "postcode": "7000", "country": "AU"}}' >/dev/null

say "A customer orders 1 x HP-LINEN-WHT-S on the Mirakl marketplace: it waits for the seller to accept it"
curl -s -X POST "$SANDBOX_URL/_sandbox/mirakl/orders" -H 'content-type: application/json' -d '{
  "order_id": "60001-A",
  "lines": [{"offer_sku": "HP-LINEN-WHT-S", "quantity": 1, "unit_price": "89.95", "shipping_price": "9.95"}]}' >/dev/null

say "skubridge sync   (each order becomes one Shopify order, its stock is claimed, every channel follows; the Mirakl order is accepted)"
skubridge sync || true

say "The marketplace takes the customer's payment"
curl -s -X POST "$SANDBOX_URL/_sandbox/mirakl/orders/60001-A/debit" -H 'content-type: application/json' -d '{}' >/dev/null

say "skubridge sync   (paid: the Mirakl order is imported into Shopify, once)"
skubridge sync || true

say "skubridge orders"
skubridge orders

say "The warehouse ships it: fulfilled in Shopify with Australia Post, tracking AP123456789AU"
curl -s -X POST "$SANDBOX_URL/_sandbox/shopify/orders/1/fulfillments" -H 'content-type: application/json' \
    -d '{"company": "Australia Post", "number": "AP123456789AU"}' >/dev/null

say "... and the monogrammed tote (the engraving is on its Shopify line, the gift message in the note)"
curl -s -X POST "$SANDBOX_URL/_sandbox/shopify/orders/2/fulfillments" -H 'content-type: application/json' \
    -d '{"company": "Australia Post", "number": "AP987654321AU"}' >/dev/null

say "... and the Mirakl order"
curl -s -X POST "$SANDBOX_URL/_sandbox/shopify/orders/3/fulfillments" -H 'content-type: application/json' \
    -d '{"company": "Australia Post", "number": "AP555666777AU"}' >/dev/null

say "skubridge fulfil   (the next sync would do the same: carrier mapped, tracking pushed once; Mirakl's order marked shipped)"
skubridge fulfil || true

say "The Iconic after (quantities skubridge changed are marked)"
curl -s "$SANDBOX_URL/_sandbox/report"
say "Hard To Find after"
curl -s "$SANDBOX_URL/_sandbox/report/hardtofind"
say "The Mirakl marketplace after (HP-CHINO-KHK-30 is off sale there: see unmatched)"
curl -s "$SANDBOX_URL/_sandbox/report/mirakl"
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
echo "the warehouse's available stock minus 1 reserved, capped at 15 (max_stock). Hard To Find gets the"
echo "warehouse's stock of the tagged gifts as it is; HP-BEANIE-GRY is on two Shopify variants, so it"
echo "is reported instead of synced. On the Mirakl marketplace, HP-LINEN-WHT-XXL has no Shopify"
echo "variant and HP-CHINO-KHK-30 is off sale by Mirakl (OFFER_DATE_EXPIRED): both are in unmatched."
echo "Mirakl takes one stock import a minute: the levels changed after the first sync go with the"
echo "first pass a minute later (cron runs every 5 minutes). The dry run used Mirakl's one full offer"
echo "export of the day, so the first sync read the offers page by page."
