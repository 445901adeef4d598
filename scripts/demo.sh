#!/usr/bin/env bash
# Load the synthetic demo company into the running services and print where to look.
# Called by `make demo` after `make up`; safe to re-run (the tenant is remembered in
# $RAPPORT_LOCAL/run/demo-tenant.json and every load is idempotent).
#
# Variables: DEMO_CUSTOMERS (50), DEMO_MONTHS (6), DEMO_SEED (7),
#            RAPPORT_INGEST_ADMIN_TOKEN / RAPPORT_ADMIN_TOKEN (dev-admin-token)
set -euo pipefail

# shellcheck disable=SC2034  # read by lib/common.sh
RAPPORT_COMPONENT=demo
# shellcheck source=lib/common.sh
. "$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

VENV_BIN="$RAPPORT_ROOT/.venv/bin"
STATE="$RAPPORT_LOCAL/run/demo-tenant.json"
ADMIN_TOKEN="${RAPPORT_INGEST_ADMIN_TOKEN:-${RAPPORT_ADMIN_TOKEN:-dev-admin-token}}"
INGEST="http://127.0.0.1:${RAPPORT_INGEST_HTTP_PORT:-8001}"
SEED="${DEMO_SEED:-7}" CUSTOMERS="${DEMO_CUSTOMERS:-50}" MONTHS="${DEMO_MONTHS:-6}"

log "loading the demo company (seed $SEED, $CUSTOMERS customers, $MONTHS months) into $INGEST"
"$VENV_BIN/rapport-synth" load --api-url "$INGEST" --admin-token "$ADMIN_TOKEN" --state-file "$STATE" \
    --seed "$SEED" --customers "$CUSTOMERS" --months "$MONTHS"

state() { "$VENV_BIN/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$STATE" "$1"; }
TENANT="$(state tenant_id)"
API_KEY="$(state api_key)"

# The primary AP contact of the first customer with an overdue invoice; PUT again
# (idempotent) to learn the ledger's contact id, which the portal signs links for.
read -r CUSTOMER CONTACT BODY < <("$VENV_BIN/python" - "$SEED" "$CUSTOMERS" "$MONTHS" <<'PY'
import json, sys
from rapport_synth import generate_company
from rapport_synth.export import contact_body
company = generate_company(seed=int(sys.argv[1]), customers=int(sys.argv[2]), months=int(sys.argv[3]))
overdue = {i.customer_external_id for i in company.invoices
           if i.due_date < company.today and company.open_amount(i.number) > 0}
customer = next(c for c in company.customers if c.external_id in overdue)
contact = next(k for k in customer.contacts if k.is_primary)
print(customer.external_id, contact.external_id, json.dumps(contact_body(contact), separators=(",", ":")))
PY
)
CONTACT_ID="$(curl -fsS -X PUT -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
    --data "$BODY" "$INGEST/v1/customers/$CUSTOMER/contacts/$CONTACT" \
    | "$VENV_BIN/python" -c 'import json,sys; print(json.load(sys.stdin)["contact_id"])')"

# The portal's read model follows the customer events; give it a moment.
LINK=""
for _ in $(seq 30); do
    if LINK="$("$VENV_BIN/rapport-portal" magic-link --tenant "$TENANT" --contact "$CONTACT_ID" 2>/dev/null | tail -n 1)" \
        && [ -n "$LINK" ]; then
        break
    fi
    LINK=""
    sleep 2
done

SINK="$RAPPORT_ROOT/.local/sink"
cat <<TXT

Rapport demo is running.
  tenant id        $TENANT
  ingest API key   $API_KEY   (saved in $STATE)

API docs (OpenAPI):
  ingest     http://127.0.0.1:8001/docs   ERP/CRM API, imports, payment webhooks
  scheduler  http://127.0.0.1:8002/docs   policies, worklist, account timeline
  outreach   http://127.0.0.1:8003/docs   templates, message log
  scoring    http://127.0.0.1:8004/docs   scores, aging, DSO, forecast
  portal     http://127.0.0.1:8005/docs   customer self-service (reference page at http://127.0.0.1:8005/)

Customer portal sign-in for $CUSTOMER's AP contact ($CONTACT):
  ${LINK:-(not ready yet: rerun .venv/bin/rapport-portal magic-link --tenant $TENANT --contact $CONTACT_ID)}

Messages sent by outreach (.eml / JSON files):   $SINK
Logs: $RAPPORT_LOGDIR/services.log  (per process: $RAPPORT_LOGDIR/services/)

Time-travel the scheduler 30 days ahead (dunning steps fire, messages appear in the sink):
  curl -X POST -H 'X-Admin-Token: dev-admin-token' -H 'Content-Type: application/json' \\
       localhost:8002/v1/admin/clock/advance -d '{"days":30}'

Stop everything: make down
TXT
